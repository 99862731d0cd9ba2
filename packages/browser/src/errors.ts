/** No bootstrap peer could be reached: the page is not in the swarm. */
export class BootstrapError extends Error {
  static override name = 'BootstrapError'
  override name = 'BootstrapError'
}
