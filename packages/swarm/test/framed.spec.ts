import { describe, expect, it } from 'vitest'
import { Uint8ArrayList } from 'uint8arraylist'
import { FramedStream } from '../src/framed.js'
import type { ByteStream } from '../src/network.js'
import type { AbortOptions } from '@libp2p/interface'

/** A stream whose peer reads nothing: every send fills the buffer, and it never drains. */
function unreadStream (): ByteStream & { aborted?: Error } {
  return {
    send: () => false,
    async onDrain (options?: AbortOptions) {
      await new Promise((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true })
      })
    },
    async close () {},
    abort (err: Error) { this.aborted = err },
    async * [Symbol.asyncIterator] () {}
  }
}

describe('FramedStream', () => {
  it('gives up on a peer that reads nothing after the write-stall deadline, whatever the caller waits for', async () => {
    const framed = new FramedStream(unreadStream(), 50)
    const started = performance.now()
    await expect(framed.sendRaw(new Uint8ArrayList(new Uint8Array(8)), { signal: new AbortController().signal })).rejects.toMatchObject({ name: 'WriteStallError' })
    await expect(framed.send({ type: 'have', have: { pieces: [1] } })).rejects.toMatchObject({ name: 'WriteStallError' })
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('reports the caller\'s own abort as such, not as a stall', async () => {
    const framed = new FramedStream(unreadStream(), 60_000)
    const controller = new AbortController()
    const sending = framed.sendRaw(new Uint8ArrayList(new Uint8Array(8)), { signal: controller.signal })
    controller.abort(new Error('task over'))
    await expect(sending).rejects.toThrow('task over')
  })
})
