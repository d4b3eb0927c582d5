// The operators' incident list under live events: which rows an event touches, and the queue
// that holds events back while the operator is reading (text selected, a row selected).
import type { EventMessage, Incident, IncidentStatus } from './api/types'
import { statusValues } from './api/schema'
import { isOpenStatus } from './lifecycle'

const OPEN_STATUSES: readonly IncidentStatus[] = statusValues.filter(isOpenStatus)

export interface ListFilter {
  status: string
  source: string
  category: string
  grid: string
  assignee: string
  overdue: '' | 'true' | 'false'
  entity_id: string
}

export const EMPTY_FILTER: ListFilter = {
  status: 'open',
  source: '',
  category: '',
  grid: '',
  assignee: '',
  overdue: '',
  entity_id: '',
}

/** `status` as the service reads it: one word, several comma-separated, or 'open'. */
export function statusesOf(status: string): string[] {
  return status
    .split(',')
    .map((s) => s.trim())
    .flatMap((s) => (s === 'open' ? [...OPEN_STATUSES] : s ? [s] : []))
}

/** The same test the service applies to GET /incidents, for rows arriving live. */
export function matchesFilter(incident: Incident, filter: ListFilter): boolean {
  if (filter.status && !statusesOf(filter.status).includes(incident.status)) return false
  if (filter.source && !incident.sources.includes(filter.source)) return false
  if (filter.category && incident.category !== filter.category) return false
  if (filter.grid && incident.grid !== filter.grid) return false
  if (filter.assignee && incident.assignee !== filter.assignee) return false
  if (filter.entity_id && incident.entity_id !== filter.entity_id) return false
  if (filter.overdue && String(incident.overdue) !== filter.overdue) return false
  return true
}

export interface ListPage {
  items: Incident[]
  total: number
}

/**
 * One incident's new state into a page sorted newest report first: replaced in place, moved to
 * the top when it has a newer report, added on the first page when it newly matches, dropped
 * when it no longer does. The page keeps its size.
 */
export function applyIncident(
  page: ListPage,
  incident: Incident,
  filter: ListFilter,
  options: { firstPage: boolean; pageSize: number },
): ListPage {
  const index = page.items.findIndex((i) => i.id === incident.id)
  const matches = matchesFilter(incident, filter)
  if (index === -1) {
    if (!matches) return page
    const items = options.firstPage ? [incident, ...page.items].slice(0, options.pageSize) : page.items
    return { items, total: page.total + 1 }
  }
  const items = [...page.items]
  if (!matches) {
    items.splice(index, 1)
    return { items, total: Math.max(0, page.total - 1) }
  }
  const before = items[index] as Incident
  if (incident.version < before.version) return page // an older state than the one shown
  if (options.firstPage && Date.parse(incident.last_reported_at) > Date.parse(before.last_reported_at)) {
    items.splice(index, 1)
    items.unshift(incident)
  } else {
    items[index] = incident
  }
  return { items, total: page.total }
}

export function applyEventsToPage(
  page: ListPage,
  events: readonly EventMessage[],
  filter: ListFilter,
  options: { firstPage: boolean; pageSize: number },
): ListPage {
  let next = page
  for (const event of events) if (event.incident) next = applyIncident(next, event.incident, filter, options)
  return next
}

/** Held-back events, bounded: past the limit the list is simply reloaded on resume. */
export class PendingEvents {
  private events: EventMessage[] = []
  private overflowed = false
  private count = 0

  constructor(private readonly limit = 500) {}

  push(event: EventMessage): void {
    this.count += 1
    if (this.overflowed) return
    if (this.events.length >= this.limit) {
      this.overflowed = true
      this.events = []
      return
    }
    this.events.push(event)
  }

  /** A snapshot or an overflow: the list must be fetched again rather than patched. */
  markReload(): void {
    this.count += 1
    this.overflowed = true
    this.events = []
  }

  get size(): number {
    return this.count
  }

  /** Take everything held: the events to apply, or `reload` when patching is not enough. */
  drain(): { events: EventMessage[]; reload: boolean } {
    const out = { events: this.events, reload: this.overflowed }
    this.events = []
    this.overflowed = false
    this.count = 0
    return out
  }
}
