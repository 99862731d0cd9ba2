// Two tiny element builders: plain DOM, no framework.

const SVG_NS = 'http://www.w3.org/2000/svg'

function fill (el, props, children) {
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue
    if (k === 'text') el.textContent = String(v)
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue
    el.append(c instanceof Node ? c : String(c))
  }
  return el
}

/** h('td', { class: 'num', dataset: { bytes: 12 } }, 'text', child) */
export function h (tag, props, ...children) {
  return fill(document.createElement(tag), props, children)
}

/** The same for SVG elements. */
export function s (tag, props, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children)
}

/** Replace an element's children. */
export function replace (el, ...children) {
  el.replaceChildren(...children.flat().filter(c => c != null && c !== false))
}
