// Bytes over time as stacked areas, and small sparklines. SVG, no library.
import { s } from './dom.js'
import { formatBytes, formatRate } from './format.js'

const W = 640
const H = 230
const M = { left: 70, right: 12, top: 26, bottom: 24 }

/**
 * chart: { times: [ms], series: [{ key, label, values }], line?: { key, label, values } }
 * Series are stacked bottom-up in the order given; `line` is drawn over them.
 */
export function drawStacked (svg, chart) {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`)
  const { times, series, line } = chart
  const n = times.length
  const totals = times.map((_, i) => series.reduce((sum, x) => sum + (x.values[i] ?? 0), 0))
  const max = niceMax(Math.max(1024 * 1024, ...totals, ...(line?.values ?? [])))
  const t0 = times[0] ?? 0
  const span = Math.max(1000, (times[n - 1] ?? 0) - t0)
  const x = t => M.left + ((t - t0) / span) * (W - M.left - M.right)
  const y = v => H - M.bottom - (v / max) * (H - M.top - M.bottom)
  const parts = []
  for (const f of [0, 0.5, 1]) {
    parts.push(s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y(max * f), y2: y(max * f) }))
    parts.push(s('text', { class: 'axis', x: M.left - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, formatBytes(max * f)))
  }
  parts.push(s('text', { class: 'axis', x: M.left, y: H - 6 }, '0 s'))
  parts.push(s('text', { class: 'axis', x: W - M.right, y: H - 6, 'text-anchor': 'end' }, `${Math.round(span / 1000)} s`))
  if (n > 0) {
    const base = new Array(n).fill(0)
    for (const ser of series) {
      const top = base.map((b, i) => b + (ser.values[i] ?? 0))
      const up = times.map((t, i) => `${x(t).toFixed(1)},${y(top[i]).toFixed(1)}`)
      const down = times.map((t, i) => `${x(t).toFixed(1)},${y(base[i]).toFixed(1)}`).reverse()
      parts.push(s('polygon', { class: `area ${ser.key}`, points: [...up, ...down].join(' ') }, s('title', { text: `${ser.label}: ${formatBytes(ser.values[n - 1] ?? 0)}` })))
      top.forEach((v, i) => { base[i] = v })
    }
    if (line != null) {
      parts.push(s('polyline', { class: `line ${line.key}`, points: times.map((t, i) => `${x(t).toFixed(1)},${y(line.values[i] ?? 0).toFixed(1)}`).join(' ') },
        s('title', { text: `${line.label}: ${formatBytes(line.values[n - 1] ?? 0)}` })))
    }
  }
  let lx = M.left
  for (const item of [...series, ...(line != null ? [line] : [])]) {
    const last = item.values[n - 1] ?? 0
    parts.push(s('rect', { class: `swatch ${item.key}${item === line ? ' dashed' : ''}`, x: lx, y: 6, width: 12, height: 12 }))
    const label = `${item.label} ${formatBytes(last)}`
    parts.push(s('text', { class: 'legend', x: lx + 16, y: 16, dataset: { key: item.key, bytes: last } }, label))
    lx += 28 + label.length * 6.4
  }
  svg.replaceChildren(...parts)
}

/** values: [{ down, up }]; down filled, up as a line, both on one scale. */
export function drawSparkline (svg, values) {
  const w = 120
  const h = 26
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`)
  const max = Math.max(1, ...values.map(v => Math.max(v.down, v.up)))
  const step = w / Math.max(1, values.length - 1)
  const py = v => (h - 1 - (v / max) * (h - 3)).toFixed(1)
  const down = values.map((v, i) => `${(i * step).toFixed(1)},${py(v.down)}`)
  const up = values.map((v, i) => `${(i * step).toFixed(1)},${py(v.up)}`)
  svg.replaceChildren(
    s('title', { text: `peak ${formatRate(max)}` }),
    ...(values.length > 1 ? [s('polygon', { class: 'spark-down', points: [`0,${h}`, ...down, `${((values.length - 1) * step).toFixed(1)},${h}`].join(' ') })] : []),
    ...(values.length > 1 ? [s('polyline', { class: 'spark-up', points: up.join(' ') })] : []))
}

function niceMax (v) {
  const p = 2 ** Math.ceil(Math.log2(v))
  return p * 0.75 >= v ? p * 0.75 : p
}

/**
 * Cumulative counters of several nodes on one time axis: every node's
 * latest sample at or before each tick, so nodes sampled at different
 * moments add up without steps.
 */
export function alignSamples (sampleLists, pick, tickMs = 1000) {
  const all = sampleLists.flat()
  if (all.length === 0) return { times: [], values: [] }
  const t0 = Math.min(...all.map(x => x.t))
  const t1 = Math.max(...all.map(x => x.t))
  const step = Math.max(tickMs, Math.ceil((t1 - t0) / 600 / tickMs) * tickMs)
  const times = []
  for (let t = t0; t <= t1 + step - 1; t += step) times.push(Math.min(t, t1))
  const cursors = sampleLists.map(() => 0)
  const values = times.map(t => {
    const sum = {}
    sampleLists.forEach((list, k) => {
      while (cursors[k] < list.length - 1 && list[cursors[k] + 1].t <= t) cursors[k]++
      const sample = list[cursors[k]]
      if (sample == null || sample.t > t) return
      for (const [key, v] of Object.entries(pick(sample, k))) sum[key] = (sum[key] ?? 0) + v
    })
    return sum
  })
  return { times, values }
}
