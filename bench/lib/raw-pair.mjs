// Parent side of the raw measurements: start a receiver child, then a sender
// child pointed at it, and take the receiver's bytes/s.
import { fileURLToPath } from 'node:url'
import { failureOf, nextMessage, spawnNode, stopChild, waitExit, withDeadline } from './processes.mjs'

export const RAW_TCP = fileURLToPath(new URL('./raw-tcp.mjs', import.meta.url))
export const RAW_LIBP2P = fileURLToPath(new URL('./raw-libp2p.mjs', import.meta.url))

/**
 * One transfer of `bytes` from a sender process to a receiver process.
 * `receiveArgs` / `sendArgs(addr)` are the scripts' arguments after the role.
 */
export async function measureRawPair ({ label, script, receiveArgs, sendArgs, bytes, timeoutMs }) {
  let receiver, sender
  try {
    return await withDeadline(timeoutMs, label, async signal => {
      receiver = spawnNode([script, 'receive', ...receiveArgs], { ipc: true })
      const { addr } = await nextMessage(receiver, 'ready', signal)
      sender = spawnNode([script, 'send', ...sendArgs(addr)], { ipc: true })
      const sent = nextMessage(sender, 'sent', signal)
      sent.catch(() => {}) // a failure is reported by the race below
      const result = await Promise.race([nextMessage(receiver, 'result', signal), failureOf(sender)])
      if (result.bytes !== bytes) throw new Error(`${label}: receiver counted ${result.bytes} bytes, expected ${bytes}`)
      const { cpuSeconds: senderCpuSeconds } = await sent
      const codes = await Promise.all([waitExit(sender, 10_000), waitExit(receiver, 10_000)])
      if (codes.some(c => c !== 0)) throw new Error(`${label}: children exited with ${codes.join(', ')}`)
      return { seconds: result.seconds, senderCpuSeconds, receiverCpuSeconds: result.cpuSeconds, encryption: result.encryption, multiplexer: result.multiplexer, bytesPerSecond: bytes / result.seconds }
    })
  } finally {
    await Promise.all([stopChild(sender), stopChild(receiver)])
  }
}
