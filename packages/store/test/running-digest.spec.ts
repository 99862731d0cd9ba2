import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RunningDigest } from '../src/running-digest.js'

describe('RunningDigest', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'damselfly-digest-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('hashes the ranges it is fed, read back from the file, as one sha256', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17)
    const path = join(dir, 'data')
    await writeFile(path, bytes)
    const running = new RunningDigest(path)
    // runs of pieces of uneven length, as a download completes them
    running.feed(0, 1000)
    running.feed(1000, 2 * 1024 * 1024)
    running.feed(1000 + 2 * 1024 * 1024, bytes.byteLength - 1000 - 2 * 1024 * 1024)
    const digest = await running.digest()
    expect(Buffer.from(digest).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
  })

  it('fails when a range lies past the end of the file, and when the file is missing', async () => {
    const path = join(dir, 'short')
    await writeFile(path, randomBytes(100))
    const short = new RunningDigest(path)
    short.feed(0, 200)
    await expect(short.digest()).rejects.toThrow(/ends at byte 100/)
    const missing = new RunningDigest(join(dir, 'absent'))
    missing.feed(0, 1)
    await expect(missing.digest()).rejects.toThrow(/ENOENT/)
  })

  it('keeps digests apart, and gives each once', async () => {
    const a = randomBytes(5000)
    const b = randomBytes(7000)
    await writeFile(join(dir, 'a'), a)
    await writeFile(join(dir, 'b'), b)
    const da = new RunningDigest(join(dir, 'a'))
    const db = new RunningDigest(join(dir, 'b'))
    db.feed(0, 3000)
    da.feed(0, 5000)
    db.feed(3000, 4000)
    const [ha, hb] = await Promise.all([da.digest(), db.digest()])
    expect(Buffer.from(ha).toString('hex')).toBe(createHash('sha256').update(a).digest('hex'))
    expect(Buffer.from(hb).toString('hex')).toBe(createHash('sha256').update(b).digest('hex'))
    await expect(da.digest()).rejects.toThrow(/ended/)
  })
})
