import { describe, expect, it } from 'vitest'
import type { PainPoint } from '../src/api/types'
import { painPointRows } from '../src/painPoints'

function point(rank: number, theme: string, count: number, previous: number, trend: string): PainPoint {
  return {
    rank,
    theme,
    label: theme,
    count,
    previous_count: previous,
    change: count - previous,
    change_ratio: previous ? (count - previous) / previous : null,
    trend,
    by_kind: { hotline: count, visits: 0, departments: 0 },
    communities: rank === 3 ? [] : [{ community: rank === 2 ? '未知' : '闻喜苑', count }],
  }
}

describe('painPointRows', () => {
  it('says the trend in zh-CN and keeps 未知 as it is', () => {
    const rows = painPointRows([
      point(1, 'noise', 8, 5, 'up'),
      point(2, 'parking', 4, 6, 'down'),
      point(3, 'fumes', 2, 0, 'new'),
      point(4, 'garbage', 2, 2, 'flat'),
    ])
    expect(rows.map((r) => r.trendText)).toEqual(['▲3', '▼2', '新增', '持平'])
    expect(rows.map((r) => r.community)).toEqual(['闻喜苑', '未知', '', '闻喜苑'])
    expect(rows.map((r) => r.share)).toEqual([1, 0.5, 0.25, 0.25])
  })

  it('shows at most ten', () => {
    const many = Array.from({ length: 14 }, (_, i) => point(i + 1, `t${i}`, 20 - i, 0, 'new'))
    expect(painPointRows(many)).toHaveLength(10)
  })
})
