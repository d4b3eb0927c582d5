import { describe, expect, it } from 'vitest'
import type { TimelineItem } from '../src/api/types'
import { NO_FILTER, filterTimeline, timelineSources } from '../src/timeline'

const items: TimelineItem[] = [
  { at: '2026-11-01T02:00:00Z', kind: 'record', source: 'police', title: 'a', incident_id: 1, record_id: 10 },
  { at: '2026-11-10T17:00:00Z', kind: 'record', source: 'market', title: 'b', incident_id: null, record_id: 11 },
  { at: '2026-11-12T03:00:00Z', kind: 'event', source: null, title: 'c', incident_id: 1, record_id: null },
  { at: '2026-11-20T03:00:00Z', kind: 'record', source: 'city', title: 'd', incident_id: 2, record_id: 12 },
]

describe('filterTimeline', () => {
  it('lists everything newest first without a filter', () => {
    expect(filterTimeline(items, NO_FILTER).map((i) => i.title)).toEqual(['d', 'c', 'b', 'a'])
  })
  it('filters by department and kind', () => {
    expect(filterTimeline(items, { ...NO_FILTER, source: 'market' }).map((i) => i.title)).toEqual(['b'])
    expect(filterTimeline(items, { ...NO_FILTER, kind: 'event' }).map((i) => i.title)).toEqual(['c'])
  })
  it('filters by Shanghai calendar day, both ends inclusive', () => {
    // 2026-11-10T17:00Z is 11 November in Shanghai
    expect(filterTimeline(items, { ...NO_FILTER, from: '2026-11-11', to: '2026-11-12' }).map((i) => i.title)).toEqual([
      'c',
      'b',
    ])
  })
  it('names the departments present', () => {
    expect(timelineSources(items)).toEqual(['city', 'market', 'police'])
  })
})
