import { describe, expect, it } from 'vitest'
import { formatAgeShort, shortAddress } from '../src/format'

describe('wall formatting', () => {
  it('drops the city and district from an address', () => {
    expect(shortAddress('上海市静安区临汾路375号')).toBe('临汾路375号')
    expect(shortAddress('静安区闻喜路237号1楼')).toBe('闻喜路237号1楼')
    expect(shortAddress('临汾路375号')).toBe('临汾路375号')
    expect(shortAddress(null)).toBe('')
  })
  it('keeps ages short', () => {
    const now = Date.parse('2026-11-28T12:00:00Z')
    expect(formatAgeShort('2026-11-28T11:59:30Z', now)).toBe('刚刚')
    expect(formatAgeShort('2026-11-28T11:48:00Z', now)).toBe('12分钟')
    expect(formatAgeShort('2026-11-28T08:40:00Z', now)).toBe('3时20分')
    expect(formatAgeShort('2026-10-30T10:00:00Z', now)).toBe('29天2时')
  })
})
