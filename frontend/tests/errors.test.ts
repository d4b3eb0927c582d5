import { describe, expect, it } from 'vitest'
import { allowedStatusesFrom, apiErrorFrom, incidentFromConflict, isTransitionRefused } from '../src/api/errors'
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

  it('says a note is too long, not that it is missing', () => {
    const tooLong = apiErrorFrom(422, {
      error: {
        code: 'validation_failed',
        message: 'note: String should have at most 2000 characters',
        details: [{ field: 'note', reason: 'String should have at most 2000 characters', type: 'string_too_long' }],
      },
    })
    expect(tooLong.message).toBe('说明过长（最多 2000 字）')
    expect(isTransitionRefused(tooLong)).toBe(false)
    const withLimit = apiErrorFrom(422, {
      error: { code: 'validation_failed', details: [{ field: 'text', reason: 'too long', ctx: { max_length: 4000 } }] },
    })
    expect(withLimit.message).toBe('备注过长（最多 4000 字）')
    const unsaid = apiErrorFrom(422, {
      error: { code: 'validation_failed', details: [{ field: 'note', reason: 'too long' }] },
    })
    expect(unsaid.message).toBe('说明过长（最多 4000 字）')
  })

  it('tells a refused transition from a refused note', () => {
    const refused = apiErrorFrom(422, {
      error: {
        code: 'unprocessable',
        details: [{ field: 'status', reason: 'transition not allowed', allowed: ['dispatched', 'rejected', 'merged'] }],
      },
    })
    expect(isTransitionRefused(refused)).toBe(true)
    const missingNote = apiErrorFrom(422, {
      error: { code: 'unprocessable', details: [{ field: 'note', reason: 'required for this status' }] },
    })
    expect(isTransitionRefused(missingNote)).toBe(false)
    const conflict = apiErrorFrom(409, { error: { code: 'conflict', details: [{ field: 'status' }] } })
    expect(isTransitionRefused(conflict)).toBe(false)
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
