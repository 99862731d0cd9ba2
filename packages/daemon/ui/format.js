// Numbers as people read them on the dashboard.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 123456789 -> "117.7 MiB" */
export function formatBytes (n) {
  if (!Number.isFinite(n)) return '-'
  let i = 0
  while (Math.abs(n) >= 1024 && i < UNITS.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${UNITS[i]}`
}

/** bytes per second -> "12.3 MiB/s" */
export function formatRate (bps) {
  return `${formatBytes(bps)}/s`
}

/** A peer id short enough for a label: the tail is what differs between ids. */
export function shortPeer (peerId) {
  return peerId == null ? '?' : `…${peerId.slice(-6)}`
}

/** "sha256:abcdef…" -> "abcdef12" */
export function shortDigest (digest) {
  return digest.replace(/^sha256:/, '').slice(0, 12)
}

export function formatSeconds (s) {
  return s == null ? '-' : `${s.toFixed(1)} s`
}

export function formatTime (ms) {
  return new Date(ms).toLocaleTimeString()
}
