import { describe, expect, it } from 'vitest'
import { OriginError, TaskFailedError } from '../src/errors.js'
import { refusalFor } from '../src/seed-service.js'

describe('what a seed tells the peer that asked', () => {
  it('names the origin\'s status, and keeps where a connection failed to itself', () => {
    expect(refusalFor(new TaskFailedError('http://127.0.0.1:5000/x answered 404 Not Found', 'origin', 404))).toEqual({ code: 'ORIGIN', message: 'the origin answered 404', status: 404 })
    const refused = refusalFor(new OriginError('http://10.0.0.7:47199/x could not be reached: connect ECONNREFUSED 10.0.0.7:47199', true))
    expect(refused).toEqual({ code: 'ORIGIN', message: 'the origin could not be read' })
    expect(JSON.stringify(refused)).not.toMatch(/10\.0\.0\.7|ECONNREFUSED/)
  })

  it('says an origin timed out, which the asker could tell from the wait anyway', () => {
    const err = new OriginError('http://10.0.0.7:5000/x did not answer within 1500 ms', true, undefined, 'the origin did not answer within 1500 ms')
    const task = new TaskFailedError(err.message, 'origin', err.status, undefined, err.shareable)
    expect(refusalFor(task)).toEqual({ code: 'ORIGIN', message: 'the origin did not answer within 1500 ms' })
    expect(refusalFor(task).message).not.toContain('10.0.0.7')
  })

  it('tells content faults and policy refusals as they are, anything else as the seed\'s own failure', () => {
    expect(refusalFor(new TaskFailedError('digest mismatch: the content does not hash to sha256:ab', 'origin', undefined, 'DIGEST_MISMATCH')).message).toMatch(/digest mismatch/)
    expect(refusalFor({ name: 'OriginNotAllowedError', message: 'not in --allow-origin' })).toEqual({ code: 'BAD_REQUEST', message: 'this seed does not fetch from that origin' })
    expect(refusalFor(new TaskFailedError('store failed: EIO /var/lib/damselfly', 'daemon'))).toEqual({ code: 'INTERNAL', message: 'the seed failed' })
  })
})
