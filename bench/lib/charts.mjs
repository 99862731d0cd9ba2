// Small self-contained SVG line charts for bench results: no dependency, no
// script, readable on GitHub and in a browser.

const WIDTH = 720
const HEIGHT = 420
const M = { left: 64, right: 180, top: 40, bottom: 52 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f']

const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** 1, 2 or 5 times a power of ten, giving about `n` ticks over [0, max]. */
function ticks (max, n = 6) {
  if (!(max > 0)) return [0, 1]
  const raw = max / n
  const p = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(k => k * p).find(s => s >= raw)
  const out = []
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  if (out[out.length - 1] < max) out.push(Number((out[out.length - 1] + step).toPrecision(12)))
  return out
}

/**
 * series: [{ label, points: [[x, y], ...], dashed?, step?, dots? }]; step draws a
 * staircase (a CDF); dots: false leaves out the points' circles (dense samples).
 * marks: vertical lines [{ x, label }].
 */
export function lineChart ({ title, xLabel, yLabel, series, marks = [], yMax, xMax }) {
  const xs = series.flatMap(s => s.points.map(p => p[0])).concat(marks.map(m => m.x))
  const ys = series.flatMap(s => s.points.map(p => p[1]))
  const xt = ticks(xMax ?? Math.max(...xs, 0))
  const yt = ticks(yMax ?? Math.max(...ys, 0))
  const X1 = xt[xt.length - 1]
  const Y1 = yt[yt.length - 1]
  const pw = WIDTH - M.left - M.right
  const ph = HEIGHT - M.top - M.bottom
  const sx = x => M.left + (x / X1) * pw
  const sy = y => M.top + ph - (y / Y1) * ph
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`)
  out.push(`<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`)
  for (const v of xt) {
    out.push(`<line x1="${sx(v)}" y1="${M.top}" x2="${sx(v)}" y2="${M.top + ph}" stroke="#eee"/>`)
    out.push(`<text x="${sx(v)}" y="${M.top + ph + 16}" text-anchor="middle">${v}</text>`)
  }
  for (const v of yt) {
    out.push(`<line x1="${M.left}" y1="${sy(v)}" x2="${M.left + pw}" y2="${sy(v)}" stroke="#eee"/>`)
    out.push(`<text x="${M.left - 6}" y="${sy(v) + 4}" text-anchor="end">${v}</text>`)
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`)
  out.push(`<text x="${M.left + pw / 2}" y="${HEIGHT - 12}" text-anchor="middle">${esc(xLabel)}</text>`)
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`)
  for (const m of marks) {
    out.push(`<line x1="${sx(m.x)}" y1="${M.top}" x2="${sx(m.x)}" y2="${M.top + ph}" stroke="#555" stroke-dasharray="2 3"/>`)
    out.push(`<text x="${sx(m.x) + 3}" y="${M.top + 12}" fill="#555">${esc(m.label)}</text>`)
  }
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]
    const pts = []
    s.points.forEach(([x, y], k) => {
      if (s.step === true && k > 0) pts.push(`${sx(x).toFixed(1)},${sy(s.points[k - 1][1]).toFixed(1)}`)
      pts.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
    })
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`)
    if (s.step !== true && s.dots !== false) for (const [x, y] of s.points) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`)
    const ly = M.top + 8 + i * 18
    out.push(`<line x1="${M.left + pw + 12}" y1="${ly}" x2="${M.left + pw + 36}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`)
    out.push(`<text x="${M.left + pw + 42}" y="${ly + 4}">${esc(s.label)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** Completion-time CDF points of `seconds`: a staircase from (0, 0) to (max, 1). */
export function cdfPoints (seconds) {
  const s = [...seconds].sort((a, b) => a - b)
  return [[0, 0], ...s.map((x, i) => [x, (i + 1) / s.length])]
}
