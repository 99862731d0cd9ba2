/** The daemon answered with an error; message is its one-line reason. */
export class DaemonError extends Error {
  static override name = 'DaemonError'
  override name = 'DaemonError'
}

export async function getJson (url: string, init: RequestInit = {}): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(10_000) })
  } catch (err: any) {
    throw new DaemonError(`cannot reach the daemon at ${new URL(url).host}: ${err.cause?.message ?? err.message} (is \`damselfly daemon\` running? see --api)`)
  }
  const text = await res.text()
  let body: any
  try {
    body = JSON.parse(text)
  } catch {
    throw new DaemonError(`the daemon answered ${res.status} with a body that is not JSON`)
  }
  if (!res.ok) throw new DaemonError(body?.error?.message ?? `the daemon answered ${res.status}`)
  return body
}
