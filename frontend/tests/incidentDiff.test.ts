import { describe, expect, it } from 'vitest'
import { describeChanges } from '../src/incidentDiff'
import { incident } from './fixtures'

describe('describeChanges', () => {
  it('names each changed field in words', () => {
    const before = incident(1, { status: 'dispatched', assignee: 'wang', version: 3 })
    const after = incident(1, { status: 'in_progress', assignee: 'li', version: 5, report_count: 2 })
    expect(describeChanges(before, after)).toEqual([
      '状态：已派遣 → 处置中',
      '处置人：wang → li',
      '报告数：1 → 2',
    ])
  })
  it('still says something when only the version moved', () => {
    expect(describeChanges(incident(1, { version: 1 }), incident(1, { version: 2 }))).toEqual(['有新的备注或附件'])
  })
})
