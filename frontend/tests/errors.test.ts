import { describe, expect, it } from 'vitest'
import { allowedStatusesFrom, apiErrorFrom, incidentFromConflict } from '../src/api/errors'
import { incident } from './fixtures'

describe('apiErrorFrom', () => {
  it('reads the service error shape and speaks Chinese', () => {
    const error = apiErrorFrom(422, {
      error: {
        code: 'unprocessable',
        message: 'a note is required to move to closed',
        details: [{ field: 'note', reason: 'required for this status' }],
      },
    })
    expect(error.message).toBe('此操作需要填写说明或理由')
    expect(error.serverMessage).toBe('a note is required to move to closed')
    expect(error.code).toBe('unprocessable')
  })

  it('falls back to the status when the body is not the usual shape', () => {
    expect(apiErrorFrom(503, 'oops').message).toBe('服务暂不可用，请稍后再试')
    expect(apiErrorFrom(418, null).message).toBe('请求失败（418）')
  })

  it('finds the current incident in a 409', () => {
    const current = incident(7, { version: 9 })
    const error = apiErrorFrom(409, {
      error: { code: 'conflict', message: 'stale', details: [{ field: 'expected_version', reason: 'stale', current }] },
    })
    expect(incidentFromConflict(error)).toEqual(current)
  })

  it('lists the allowed statuses of a 422', () => {
    const error = apiErrorFrom(422, {
      error: {
        code: 'unprocessable',
        message: 'new → resolved is not allowed',
        details: [{ field: 'status', reason: 'transition not allowed', allowed: ['dispatched', 'rejected', 'merged'] }],
      },
    })
    expect(allowedStatusesFrom(error)).toEqual(['dispatched', 'rejected', 'merged'])
  })
})
