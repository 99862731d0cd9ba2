// A binary min-heap of events ordered by time, then by insertion (so equal
// times run in the order they were scheduled: the simulation is repeatable).

export class EventQueue {
  #items = []
  #seq = 0

  get size () {
    return this.#items.length
  }

  push (time, fn) {
    const item = { time, seq: this.#seq++, fn }
    const a = this.#items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }

  pop () {
    const a = this.#items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0) {
      a[0] = last
      let i = 0
      while (true) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && before(a[l], a[m])) m = l
        if (r < a.length && before(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return top
  }
}

function before (x, y) {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq)
}
