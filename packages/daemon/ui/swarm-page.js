// The demo's swarm page: every daemon of the demo on one page, from the
// demo's /events stream (each daemon's own events, tagged with its name,
// plus the registry's byte counts, the pulls, the browser peers and the
// summary). The page also starts browser peers of its own (browser-peers.js).
import { startBrowserPeer, startedHere } from './browser-peers.js'
import { alignSamples, drawSparkline, drawStacked } from './chart.js'
import { h, replace, s } from './dom.js'
import { formatBytes, formatRate, formatSeconds, formatTime, shortDigest, shortPeer } from './format.js'
import { drawGraph, EdgeActivity } from './graph.js'
import { NodeModel, subscribe, throttle } from './model.js'
import { drawPieces } from './pieces.js'

const state = { info: undefined, nodes: new Map(), pulls: new Map(), browsers: new Map(), registry: [], summary: undefined, connected: false }
const browserErrors = []
let autostarted = false
const activity = new EdgeActivity()
const $ = id => document.getElementById(id)

function model (name) {
  let m = state.nodes.get(name)
  if (m == null) {
    m = new NodeModel()
    state.nodes.set(name, m)
  }
  return m
}

const invalidate = throttle(render)
subscribe('/events', ['demo', 'node', 'registry', 'registry-history', 'pull', 'browser', 'summary'], (type, data) => {
  switch (type) {
    case 'demo':
      state.info = data
      for (const n of data.nodes) model(n.name)
      break
    case 'node':
      if (data.type === 'disconnected') model(data.node).connected = false
      else model(data.node).apply(data.type, data.data)
      break
    case 'registry-history':
      state.registry = data.samples
      break
    case 'registry':
      state.registry.push(data)
      break
    case 'pull':
      state.pulls.set(data.node, data)
      break
    case 'browser':
      state.browsers.set(data.peerId, data)
      break
    case 'summary':
      state.summary = data
      break
  }
  invalidate()
}, up => {
  state.connected = up
  invalidate()
})

function nodesInOrder () {
  return state.info?.nodes ?? []
}

function digests () {
  return state.info?.image.blobs.map(b => b.digest) ?? []
}

function seedIds () {
  return new Set(nodesInOrder().filter(n => n.role === 'seed').map(n => n.peerId))
}

function browserName (peerId) {
  return `browser-${peerId.slice(-6)}`
}

function pullsVerified () {
  const nodes = nodesInOrder().filter(n => n.role === 'node')
  return nodes.length > 0 && nodes.every(n => state.pulls.get(n.name)?.state === 'verified')
}

function addBrowserPeer () {
  startBrowserPeer(state.info.browser, message => {
    browserErrors.push(message)
    invalidate()
  })
}

/** The demo's --browser-peers: started once, when every pull is verified, and only as many as no page has started yet. */
function autostart () {
  const want = state.info?.browser?.peers ?? 0
  if (autostarted || want === 0 || state.info.browser.unavailable != null || !pullsVerified()) return
  autostarted = true
  // a page reloaded, or opened after another started them, adds none
  const more = Math.max(0, want - state.browsers.size)
  for (let i = 0; i < more; i++) addBrowserPeer()
  $('add-browser').dataset.autostarted = String(more)
}

$('add-browser').addEventListener('click', () => {
  if (state.info?.browser != null) addBrowserPeer()
})

function render () {
  const info = state.info
  $('conn').textContent = state.connected ? 'live' : 'disconnected'
  $('conn').className = `badge ${state.connected ? 'ok' : 'bad'}`
  if (info == null) return
  $('meta').textContent = `${info.image.reference} · ${formatBytes(info.image.totalBytes)} in ${info.image.blobs.length} blobs · ${info.nodes.filter(n => n.role === 'node').length} nodes and a seed`
  const pulls = [...state.pulls.values()]
  const nodes = info.nodes.filter(n => n.role === 'node')
  const verified = pulls.filter(p => p.state === 'verified').length
  const failed = pulls.filter(p => p.state === 'failed').length
  const status = $('status')
  status.textContent = failed > 0 ? `${failed} pull${failed === 1 ? '' : 's'} failed` : verified === nodes.length && nodes.length > 0 ? `all ${verified} pulls verified` : pulls.length > 0 ? `pulling: ${verified} of ${nodes.length} verified` : 'starting'
  status.className = `badge${failed > 0 ? ' bad' : verified === nodes.length && nodes.length > 0 ? ' ok' : ''}`
  status.dataset.verified = String(verified)
  autostart()
  renderGraph()
  renderChart()
  renderNodes()
  renderBrowsers()
  renderSummary()
  renderIncidents()
}

function renderGraph () {
  const byPeer = new Map(nodesInOrder().map(n => [n.peerId, n.name]))
  for (const id of state.browsers.keys()) byPeer.set(id, browserName(id))
  const ds = digests()
  const blobs = state.info.image.blobs
  const gnodes = [{ id: 'registry', label: 'registry', kind: 'registry', place: 'top' }]
  const edges = []
  for (const n of nodesInOrder()) {
    const m = model(n.name)
    const p = m.progress(blobs)
    gnodes.push({ id: n.name, label: n.name, title: `${n.name} ${n.peerId}`, kind: n.role === 'seed' ? 'seed' : 'node', place: n.role === 'seed' ? 'center' : 'ring', sub: `${Math.floor((100 * p.held) / Math.max(1, p.total))}%` })
    const origin = m.taskBytes(ds, new Set()).origin
    if (origin > 0) edges.push({ from: 'registry', to: n.name, bytes: origin, active: activity.touch(`registry>${n.name}`, origin) })
    for (const [peer, bytes] of m.parents(ds)) {
      const from = byPeer.get(peer)
      if (from == null) continue
      edges.push({ from, to: n.name, bytes, active: activity.touch(`${from}>${n.name}`, bytes) })
    }
  }
  for (const b of state.browsers.values()) {
    const name = browserName(b.peerId)
    const pct = b.state === 'verified' ? 100 : Math.min(99, Math.floor((100 * b.bytes) / Math.max(1, b.total)))
    gnodes.push({ id: name, label: name, title: `${name} ${b.peerId}: a browser peer`, kind: 'browser', place: 'ring', sub: `${pct}%` })
    for (const [peer, bytes] of Object.entries(b.parents)) {
      const from = byPeer.get(peer)
      if (from == null) continue
      edges.push({ from, to: name, bytes, active: activity.touch(`${from}>${name}`, bytes) })
    }
  }
  drawGraph($('graph'), { nodes: gnodes, edges })
}

function renderBrowsers () {
  const browser = state.info.browser
  const button = $('add-browser')
  const ready = browser != null && browser.unavailable == null && pullsVerified()
  button.disabled = !ready
  button.title = browser?.unavailable ?? (ready ? `fetches ${shortDigest(browser.blob.digest)} (${formatBytes(browser.blob.size)}) from the swarm in this tab` : 'once every pull is verified')
  const daemons = new Set(nodesInOrder().map(n => n.peerId))
  const here = new Set(startedHere())
  const note = browser?.unavailable ?? (browser != null
    ? `Peers running in a browser tab, joining over WebSockets and fetching the largest layer, ${shortDigest(browser.blob.digest)} (${formatBytes(browser.blob.size)}), from daemons and from each other.${browser.peers > 0 ? ` The demo asked for ${browser.peers}; they start when every pull is verified.` : ''}`
    : '')
  replace($('browser-note'), note, ...browserErrors.map(e => h('span', { class: 'badge bad' }, e)))
  const rows = [...state.browsers.values()].map(b => {
    let fromDaemons = 0
    let fromBrowsers = 0
    for (const [peer, n] of Object.entries(b.parents)) {
      if (daemons.has(peer)) fromDaemons += n
      else fromBrowsers += n
    }
    const pct = b.state === 'verified' ? 100 : Math.min(99, Math.floor((100 * b.bytes) / Math.max(1, b.total)))
    const fetchText = b.state === 'verified' ? `verified in ${formatSeconds(b.seconds)}` : b.state === 'failed' ? `failed: ${b.error}` : 'fetching'
    return h('tr', { dataset: { browser: b.peerId, state: b.state, sha256: b.sha256 ?? '', here: String(here.has(b.peerId)) } },
      h('td', { title: b.peerId }, browserName(b.peerId), here.has(b.peerId) ? h('span', { class: 'badge' }, 'this tab') : null),
      h('td', { class: 'held' }, bar(pct)),
      h('td', {}, fetchText),
      h('td', { class: 'num', dataset: { source: 'daemons', bytes: fromDaemons } }, formatBytes(fromDaemons)),
      h('td', { class: 'num', dataset: { source: 'browsers', bytes: fromBrowsers } }, formatBytes(fromBrowsers)),
      h('td', {}, b.transports.join(', ')))
  })
  replace($('browsers'), rows.length > 0 ? rows : [h('tr', {}, h('td', { class: 'empty', colspan: 6 }, 'none yet'))])
}

function renderChart () {
  const pullers = nodesInOrder().filter(n => n.role === 'node').map(n => model(n.name).samples)
  const { times, values } = alignSamples(pullers, x => ({ origin: x.fromOrigin, seeds: x.fromSeeds, peers: Math.max(0, x.fromPeers - x.fromSeeds) }))
  let k = 0
  const reg = state.registry
  const line = times.map(t => {
    while (k < reg.length - 1 && reg[k + 1].t <= t) k++
    return reg[k] != null && reg[k].t <= t ? reg[k].blobBytes : 0
  })
  drawStacked($('chart'), {
    times,
    series: [
      { key: 'origin', label: 'registry', values: values.map(v => v.origin ?? 0) },
      { key: 'seeds', label: 'seed', values: values.map(v => v.seeds ?? 0) },
      { key: 'peers', label: 'peers', values: values.map(v => v.peers ?? 0) }
    ],
    line: { key: 'registry-sent', label: 'registry sent', values: line }
  })
}

function renderNodes () {
  const ds = digests()
  const seeds = seedIds()
  const blobs = state.info.image.blobs
  replace($('nodes'), nodesInOrder().map(n => {
    const m = model(n.name)
    const p = m.progress(blobs)
    const pct = p.complete ? 100 : Math.min(99, Math.floor((100 * p.held) / Math.max(1, p.total)))
    const b = m.taskBytes(ds, seeds)
    const pull = state.pulls.get(n.name)
    const rate = m.rate()
    const canvas = h('canvas', { class: 'pieces' })
    const spark = s('svg', { class: 'spark' })
    const row = h('tr', { dataset: { node: n.name, role: n.role, complete: String(p.complete) } },
      h('td', {}, h('a', { href: `http://${n.api}/`, target: '_blank', title: `${n.peerId}: its own status page` }, n.name), n.role === 'seed' ? h('span', { class: 'badge seed' }, 'seed') : null,
        m.connected ? null : h('span', { class: 'badge bad' }, 'down')),
      h('td', { class: 'held' }, bar(pct)),
      h('td', {}, canvas),
      h('td', { class: 'pull', dataset: { state: pull?.state ?? (n.role === 'seed' ? 'seed' : 'waiting') } }, pullText(n, pull)),
      h('td', { class: 'num src-registry', dataset: { source: 'registry', bytes: b.origin } }, formatBytes(b.origin)),
      h('td', { class: 'num src-seed', dataset: { source: 'seed', bytes: b.seeds } }, n.role === 'seed' ? '-' : formatBytes(b.seeds)),
      h('td', { class: 'num src-peers', dataset: { source: 'peers', bytes: b.peers } }, formatBytes(b.peers)),
      h('td', { class: 'num' }, m.parents(ds).size),
      h('td', { class: 'num' }, `↓ ${formatRate(rate.down)}`, h('br'), `↑ ${formatRate(rate.up)}`),
      h('td', {}, spark))
    drawPieces(canvas, blobs.map(blob => {
      const t = m.tasks.get(blob.digest)
      return { pieces: t?.pieces, bits: t?.bits, complete: t?.state === 'complete' }
    }), 260)
    drawSparkline(spark, m.rateHistory(60))
    return row
  }))
}

function pullText (n, pull) {
  if (n.role === 'seed') return 'pulls from the registry for the swarm'
  if (pull == null) return 'waiting'
  if (pull.state === 'verified') return `verified in ${formatSeconds(pull.seconds)}`
  if (pull.state === 'failed') return `failed: ${pull.error}`
  return `pulling ${Math.floor((100 * pull.bytes) / Math.max(1, pull.total))}%`
}

function bar (pct) {
  return h('div', { class: 'bar', dataset: { percent: pct } }, h('span', { style: `width:${pct}%` }), h('b', {}, `${pct}%`))
}

function renderSummary () {
  const sum = state.summary
  const reg = state.registry[state.registry.length - 1]
  const pullers = nodesInOrder().filter(n => n.role === 'node').length
  const direct = pullers * (state.info?.image.totalBytes ?? 0)
  const sent = sum?.registry.blobBytes ?? reg?.blobBytes ?? 0
  const saved = Math.max(0, direct - sent)
  replace($('summary'),
    h('p', {}, 'The registry sent ', h('strong', { id: 'registry-sent', dataset: { bytes: sent } }, formatBytes(sent)),
      ` of blobs; ${pullers} direct pulls would send ${formatBytes(direct)}.`),
    sum != null
      ? h('p', { id: 'saving', dataset: { ok: String(sum.ok) } }, 'Saved ', h('strong', {}, `${formatBytes(saved)} (${Math.round(sum.saving * 100)}%)`),
        sum.ok ? ': every pull verified, and the registry\'s count matches the daemons\' metrics.' : ': something did not check out, see the demo\'s output.')
      : h('p', { class: 'empty' }, 'The saving is shown when the pulls finish.'))
}

function renderIncidents () {
  const items = []
  for (const n of nodesInOrder()) {
    for (const i of model(n.name).incidents) items.push({ ...i, node: n.name })
  }
  for (const p of state.pulls.values()) {
    if (p.state === 'failed') items.push({ t: Date.now(), kind: 'failed', node: p.node, reason: `pull: ${p.error}` })
  }
  items.sort((a, b) => b.t - a.t)
  replace($('incidents'), items.length === 0
    ? h('li', { class: 'empty' }, 'none so far')
    : items.map(i => h('li', { class: i.kind }, `${formatTime(i.t)} ${i.node}: ${i.peer != null ? `peer ${shortPeer(i.peer)} ` : ''}${i.digest != null ? `${shortDigest(i.digest)} ` : ''}${i.reason}`)))
}
