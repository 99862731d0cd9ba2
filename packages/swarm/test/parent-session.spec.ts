import { describe, expect, it } from 'vitest'
import { streamPair } from '@libp2p/utils'
import { ErrorMessage } from '@damselfly/protocol'
import { FramedStream } from '../src/framed.js'
import { ParentSession } from '../src/parent-session.js'
import { RateLimiter } from '../src/rate-limit.js'
import type { CloseReason } from '../src/engine.js'
import type { SwarmNetwork } from '../src/network.js'
import type { ParentSessionEvents } from '../src/parent-session.js'
import type { BlobDigest } from '@damselfly/protocol'
import type { Stream } from '@libp2p/interface'

const DIGEST = `sha256:${'ab'.repeat(32)}` as BlobDigest

/** A requester's session to a parent played by the test over an in-memory stream pair; resolves once the parent has the Open. */
async function session (): Promise<{ parent: FramedStream, frames: AsyncGenerator<any>, closed: Promise<CloseReason | undefined> }> {
  const [outbound, inbound] = await streamPair()
  let onClosed!: (reason: CloseReason | undefined) => void
  const closed = new Promise<CloseReason | undefined>(resolve => { onClosed = resolve })
  const events: ParentSessionEvents = {
    async manifest () {},
    bitfield () {},
    have () {},
    data () {},
    declined () {},
    buffer: () => new Uint8Array(0),
    piece () {},
    abandoned () {},
    closed: onClosed
  }
  const network = { open: async (): Promise<Stream> => outbound } as unknown as SwarmNetwork
  await new ParentSession('parent', DIGEST, events, new RateLimiter()).connect(network, {})
  const parent = new FramedStream(inbound)
  const frames = parent.frames()
  const first = await frames.next()
  expect(first.value?.type).toBe('open')
  return { parent, frames, closed }
}

/** Whether the requester closes its end of the stream within `ms`: the parent's frames end. */
async function requesterCloses (frames: AsyncGenerator<any>, ms = 1000): Promise<boolean> {
  const timeout = new Promise<'open'>(resolve => setTimeout(() => resolve('open'), ms))
  const next = frames.next().then(r => (r.done === true ? 'closed' : 'frame'), () => 'closed')
  return await Promise.race([next, timeout]) === 'closed'
}

describe('ParentSession', () => {
  // otherwise the stream stays half open on both sides, and the parent's
  // session (a listener on the blob, and a hold against garbage collection)
  // waits on it as long as the connection lasts
  it('closes its end of the stream when the parent chokes it, so the parent\'s session ends', async () => {
    const { parent, frames, closed } = await session()
    await parent.send({ type: 'choke', choke: { retryAfterMs: 500 } })
    await parent.stream.close()
    expect((await closed)?.kind).toBe('choke')
    expect(await requesterCloses(frames)).toBe(true)
  })

  it('closes its end when the parent says it does not hold the blob', async () => {
    const { parent, frames, closed } = await session()
    await parent.send({ type: 'error', error: { code: ErrorMessage.Code.NOT_FOUND, message: 'not held here' } })
    expect((await closed)?.kind).toBe('not-found')
    expect(await requesterCloses(frames)).toBe(true)
  })

  it('keeps its end open while the parent serves it', async () => {
    const { parent, frames } = await session()
    await parent.send({ type: 'bitfield', bitfield: { pieces: 4, bits: new Uint8Array([0xf0]) } })
    expect(await requesterCloses(frames, 200)).toBe(false)
  })
})
