// Who feeds whom: nodes on a ring, edges from parent to child, as wide as
// the bytes they carried; an edge that carried bytes in the last moments
// moves. SVG, redrawn whole: these graphs have tens of nodes, not thousands.
import { s } from './dom.js'
import { formatBytes } from './format.js'

const W = 640
const H = 380
const R = 24

function place (nodes) {
  const ring = nodes.filter(n => n.place === 'ring')
  const cx = W / 2
  const cy = H / 2 + 10
  const at = new Map()
  for (const n of nodes) {
    if (n.place === 'top') at.set(n.id, { x: 70, y: 44 })
    else if (n.place === 'center') at.set(n.id, { x: cx, y: cy })
  }
  ring.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / ring.length + (ring.length % 2 === 0 ? Math.PI / ring.length : 0)
    at.set(n.id, { x: cx + (W / 2 - 80) * Math.cos(a), y: cy + (H / 2 - 50) * Math.sin(a) })
  })
  return at
}

/**
 * graph: { nodes: [{ id, label, sub?, kind: 'registry'|'seed'|'node'|'peer'|'self', place: 'top'|'center'|'ring' }],
 *          edges: [{ from, to, bytes, active }] }
 */
export function drawGraph (svg, graph) {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`)
  const at = place(graph.nodes)
  const kind = new Map(graph.nodes.map(n => [n.id, n.kind]))
  const max = Math.max(1, ...graph.edges.map(e => e.bytes))
  const defs = s('defs', {}, ...['registry', 'seed', 'peer'].map(k =>
    s('marker', { id: `arrow-${k}`, viewBox: '0 0 10 10', refX: 8, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 11, markerHeight: 11, orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow ${k}` }))))
  const edges = []
  for (const e of graph.edges) {
    const a = at.get(e.from)
    const b = at.get(e.to)
    if (a == null || b == null || e.bytes <= 0) continue
    const dx = b.x - a.x
    const dy = b.y - a.y
    const len = Math.hypot(dx, dy) || 1
    // bend to one side, so A->B and B->A are two curves
    const bend = 0.12 * len
    const mx = (a.x + b.x) / 2 - (dy / len) * bend
    const my = (a.y + b.y) / 2 + (dx / len) * bend
    const end = shorten(b, { x: mx, y: my }, R + 3)
    const start = shorten(a, { x: mx, y: my }, R)
    const source = kind.get(e.from) === 'registry' ? 'registry' : kind.get(e.from) === 'seed' ? 'seed' : 'peer'
    const width = 1.5 + 9 * Math.sqrt(e.bytes / max)
    edges.push(s('path', {
      d: `M${start.x},${start.y} Q${mx},${my} ${end.x},${end.y}`,
      class: `edge ${source}${e.active ? ' active' : ''}`,
      'stroke-width': width.toFixed(1),
      'marker-end': `url(#arrow-${source})`,
      dataset: { from: e.from, to: e.to, bytes: e.bytes }
    }, s('title', { text: `${e.fromLabel ?? e.from} → ${e.toLabel ?? e.to}: ${formatBytes(e.bytes)}` })))
    if (e.bytes >= max * 0.3) {
      edges.push(s('text', { x: mx, y: my, class: 'edge-label', 'text-anchor': 'middle' }, formatBytes(e.bytes)))
    }
  }
  const nodes = graph.nodes.map(n => {
    const p = at.get(n.id)
    return s('g', { class: `gnode ${n.kind}`, transform: `translate(${p.x},${p.y})`, dataset: { id: n.id } },
      s('title', { text: n.title ?? n.label }),
      s('circle', { r: R }),
      s('text', { class: 'gsub', y: 4, 'text-anchor': 'middle' }, n.sub ?? ''),
      s('text', { class: 'glabel', y: R + 14, 'text-anchor': 'middle' }, n.label))
  })
  svg.replaceChildren(defs, ...edges, ...nodes)
}

function shorten (from, toward, by) {
  const dx = toward.x - from.x
  const dy = toward.y - from.y
  const len = Math.hypot(dx, dy) || 1
  return { x: from.x + (dx / len) * by, y: from.y + (dy / len) * by }
}

/** Remembers when each edge last carried bytes, so the graph can show which are moving. */
export class EdgeActivity {
  #last = new Map()

  /** True when the edge's bytes grew within the last `ms`; an edge seen for the first time is not moving yet. */
  touch (key, bytes, ms = 2000) {
    const now = Date.now()
    const prev = this.#last.get(key)
    if (prev == null) {
      this.#last.set(key, { bytes, at: 0 })
      return false
    }
    if (bytes > prev.bytes) {
      this.#last.set(key, { bytes, at: now })
      return true
    }
    return now - prev.at < ms
  }
}
