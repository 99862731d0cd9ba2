import { OciError, UpstreamError } from '@damselfly/registry'
import type { BlobHandle, BlobProvider, Source } from '@damselfly/registry'
import type { Swarm } from '@damselfly/swarm'

/**
 * Blobs for the mirror, from the swarm: a complete blob straight from the
 * store; anything else through a download task (peers, a seed, or the
 * registry itself as the last resort), streamed as verified pieces land.
 */
export class SwarmBlobs implements BlobProvider {
  readonly #swarm: Swarm

  constructor (swarm: Swarm) {
    this.#swarm = swarm
  }

  async open ({ digest, upstream, signal, range }: { digest: string, upstream: URL, signal: AbortSignal, range?: [number, number] }): Promise<BlobHandle> {
    const store = this.#swarm.store
    const held = store.get(digest as `sha256:${string}`)
    if (held?.complete === true) {
      return {
        size: held.layout.size,
        source: 'cache',
        async * read (start, end, signal) {
          // garbage collection leaves it alone while a client reads it
          const release = store.hold(held.digest)
          try {
            yield * held.stream(start, end, { signal })
          } finally {
            release()
          }
        }
      }
    }
    let task
    try {
      // a bounded range starts a ranged download (lazy-loading clients read a blob a chunk at a time); a task under way is joined as it is
      task = this.#swarm.download({ digest: digest as `sha256:${string}`, url: upstream.toString(), range })
    } catch (err: any) {
      if (err.name === 'OriginNotAllowedError') throw new OciError('DENIED', `not fetched: ${err.message}`)
      throw err
    }
    let layout
    try {
      layout = await task.whenLayoutKnown({ signal })
    } catch (err: any) {
      throw ociErrorFor(err, digest)
    }
    const feed = task.feed
    const source: Source = feed === 'origin' ? 'upstream' : feed === 'seed' ? 'seed' : 'peer'
    return {
      size: layout.size,
      source,
      async * read (start, end, signal) {
        try {
          yield * task.read({ start, end, signal })
        } catch (err: any) {
          if (signal.aborted) throw err
          throw ociErrorFor(err, digest)
        }
      }
    }
  }
}

/** A failed task as the OCI error a runtime understands. */
function ociErrorFor (err: any, digest: string): Error {
  if (err instanceof OciError || err instanceof UpstreamError) return err
  const status: number | undefined = err.status
  if (status === 404) return new OciError('BLOB_UNKNOWN', `${digest} is not in the upstream registry: ${err.message}`)
  if (status === 401) return new OciError('UNAUTHORIZED', `the upstream registry wants authentication for ${digest}: ${err.message}`)
  if (status === 403) return new OciError('DENIED', `the upstream registry denied ${digest}: ${err.message}`)
  if (err.where === 'p2p' || err.where === 'origin') return new OciError('UPSTREAM_UNAVAILABLE', `${digest} could not be fetched: ${err.message}`)
  return new OciError('UPSTREAM_UNAVAILABLE', `${digest} could not be served: ${err.message}`, { status: 500 })
}
