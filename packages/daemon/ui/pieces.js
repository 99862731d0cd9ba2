// A piece map: one square per piece, filled when the node holds it; each
// blob starts a new row, so an image's layers read as bands.
import { hasPiece } from './model.js'

const CELL = 5
const GAP = 1

/** blobs: [{ pieces, bits, complete }]; unknown piece counts draw as one empty cell. */
export function drawPieces (canvas, blobs, width = 300) {
  const perRow = Math.max(1, Math.floor((width + GAP) / (CELL + GAP)))
  let rows = 0
  for (const b of blobs) rows += Math.max(1, Math.ceil((b.pieces ?? 1) / perRow))
  const dpr = window.devicePixelRatio || 1
  const height = Math.max(CELL, rows * (CELL + GAP) - GAP)
  canvas.style.width = `${width}px`
  canvas.style.height = `${height}px`
  canvas.width = Math.round(width * dpr)
  canvas.height = Math.round(height * dpr)
  const ctx = canvas.getContext('2d')
  ctx.scale(dpr, dpr)
  const style = getComputedStyle(canvas)
  const held = style.getPropertyValue('--piece-held').trim() || '#0e9f8e'
  const empty = style.getPropertyValue('--piece-empty').trim() || '#e3e7ec'
  let row = 0
  for (const b of blobs) {
    const n = b.pieces ?? 1
    for (let i = 0; i < n; i++) {
      const r = row + Math.floor(i / perRow)
      const c = i % perRow
      ctx.fillStyle = b.complete || hasPiece(b.bits, i) ? held : empty
      ctx.fillRect(c * (CELL + GAP), r * (CELL + GAP), CELL, CELL)
    }
    row += Math.max(1, Math.ceil(n / perRow))
  }
}
