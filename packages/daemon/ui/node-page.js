// The status page of one daemon, served by its control API at /.
import { drawStacked, drawSparkline } from './chart.js'
import { h, s, replace } from './dom.js'
import { formatBytes, formatRate, formatTime, shortDigest, shortPeer } from './format.js'
import { drawGraph, EdgeActivity } from './graph.js'
import { heldBytes, NodeModel, subscribe, throttle } from './model.js'
import { drawPieces } from './pieces.js'

const model = new NodeModel()
const activity = new EdgeActivity()
const $ = id => document.getElementById(id)

const invalidate = throttle(render)
subscribe('/api/v1/events', ['status', 'progress', 'done', 'ban', 'sample'], (type, data) => {
  if (model.apply(type, data)) invalidate()
}, up => {
  model.connected = up
  invalidate()
})

function render () {
  $('peer').textContent = model.peerId ?? ''
  $('role').textContent = model.seed ? 'seed' : 'peer'
  $('role').className = `badge${model.seed ? ' seed' : ''}`
  $('conn').textContent = model.connected ? 'live' : 'disconnected'
  $('conn').className = `badge ${model.connected ? 'ok' : 'bad'}`
  $('meta').textContent = `${model.peers.length} peers · ${model.listenAddresses[0] ?? ''}`
  renderGraph()
  renderChart()
  renderTasks()
  renderIncidents()
}

function renderGraph () {
  const seeds = new Set(model.peers.filter(p => p.seed).map(p => p.peer))
  const parents = model.parents()
  const ids = new Set([...model.peers.map(p => p.peer), ...parents.keys()])
  const fromOrigin = [...model.tasks.values()].reduce((n, t) => n + (t.bytesFromOrigin ?? 0), 0)
  const nodes = [{ id: 'self', label: 'this node', sub: model.seed ? 'seed' : '', kind: 'self', place: 'center' }]
  if (fromOrigin > 0) nodes.push({ id: 'registry', label: 'registry', kind: 'registry', place: 'top' })
  for (const id of ids) nodes.push({ id, label: shortPeer(id), title: id, kind: seeds.has(id) ? 'seed' : 'peer', place: 'ring', sub: seeds.has(id) ? 'seed' : '' })
  const edges = [...parents].map(([id, bytes]) => ({ from: id, to: 'self', bytes, fromLabel: id, toLabel: 'this node', active: activity.touch(id, bytes) }))
  if (fromOrigin > 0) edges.push({ from: 'registry', to: 'self', bytes: fromOrigin, fromLabel: 'registry', toLabel: 'this node', active: activity.touch('registry', fromOrigin) })
  drawGraph($('graph'), { nodes, edges })
}

function renderChart () {
  const samples = model.samples
  drawStacked($('chart'), {
    times: samples.map(x => x.t),
    series: [
      { key: 'origin', label: 'registry', values: samples.map(x => x.fromOrigin) },
      { key: 'seeds', label: 'seeds', values: samples.map(x => x.fromSeeds) },
      { key: 'peers', label: 'peers', values: samples.map(x => Math.max(0, x.fromPeers - x.fromSeeds)) }
    ],
    line: { key: 'uploaded', label: 'sent to peers', values: samples.map(x => x.uploaded) }
  })
  const r = model.rate()
  const spark = s('svg', { class: 'spark' })
  drawSparkline(spark, model.rateHistory())
  replace($('throughput'), h('table', {}, h('tr', {},
    h('td', {}, 'now'), h('td', { class: 'num' }, `↓ ${formatRate(r.down)}`), h('td', { class: 'num' }, `↑ ${formatRate(r.up)}`), h('td', {}, spark))))
}

function renderTasks () {
  const tasks = [...model.tasks.values()].sort((a, b) => b.startedAt - a.startedAt).slice(0, 50)
  if (tasks.length === 0) {
    replace($('tasks'), h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'no downloads yet')))
    return
  }
  replace($('tasks'), tasks.map(t => {
    const pct = t.size ? Math.floor((100 * heldBytes(t)) / t.size) : 0
    const canvas = h('canvas', { class: 'pieces' })
    // a download of the pieces read only, holding every one read so far: nothing moves until the next read
    const partial = t.state === 'downloading' && t.ranged === true && t.fetching === false
    const row = h('tr', { dataset: { digest: t.digest, state: t.state, partial: String(partial) } },
      h('td', { class: 'mono', title: t.digest }, shortDigest(t.digest)),
      h('td', { title: partial ? 'only the pieces read are fetched; the rest when a client reads it' : undefined }, partial ? 'partial' : t.state),
      h('td', {}, bar(pct)),
      h('td', {}, canvas),
      h('td', { class: 'num' }, t.size != null ? formatBytes(t.size) : '?'),
      h('td', { class: 'num src-registry' }, formatBytes(t.bytesFromOrigin)),
      h('td', { class: 'num src-peers' }, formatBytes(t.bytesFromPeers)),
      h('td', { class: 'num' }, Object.keys(t.parents ?? {}).length))
    drawPieces(canvas, [{ pieces: t.pieces, bits: t.bits, complete: t.state === 'complete' }], 260)
    return row
  }))
}

export function bar (pct) {
  return h('div', { class: 'bar', dataset: { percent: pct } }, h('span', { style: `width:${pct}%` }), h('b', {}, `${pct}%`))
}

function renderIncidents () {
  const items = [...model.incidents].reverse()
  replace($('incidents'), items.length === 0
    ? h('li', { class: 'empty' }, 'none')
    : items.map(i => h('li', { class: i.kind }, `${formatTime(i.t)} ${i.peer != null ? `${shortPeer(i.peer)} ` : ''}${i.digest != null ? `${shortDigest(i.digest)} ` : ''}${i.reason}`)))
}
