// Filtering an entity's timeline: by department, by kind (record / event), by Shanghai date.
import type { TimelineItem } from './api/types'
import { shanghaiDate } from './format'

export interface TimelineFilter {
  source: string // '' = every department
  kind: '' | 'record' | 'event'
  from: string // YYYY-MM-DD or ''
  to: string // YYYY-MM-DD or '' (inclusive)
}

export const NO_FILTER: TimelineFilter = { source: '', kind: '', from: '', to: '' }

export function filterTimeline(items: readonly TimelineItem[], filter: TimelineFilter): TimelineItem[] {
  return items
    .filter((item) => {
      if (filter.source && item.source !== filter.source) return false
      if (filter.kind && item.kind !== filter.kind) return false
      if (filter.from || filter.to) {
        const day = shanghaiDate(item.at)
        if (filter.from && day < filter.from) return false
        if (filter.to && day > filter.to) return false
      }
      return true
    })
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
}

/** The departments that appear in a timeline, for the filter's options. */
export function timelineSources(items: readonly TimelineItem[]): string[] {
  return [...new Set(items.map((i) => i.source).filter((s): s is string => !!s))].sort()
}
