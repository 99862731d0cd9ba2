/**
 * @packageDocumentation
 *
 * The `damselfly` command line: `daemon`, `get`, `status`.
 */

export { main } from './main.js'
