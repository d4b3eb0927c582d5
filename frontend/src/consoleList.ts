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
  /**
   * The count may be off: an incident changed in a way its event does not fully describe (it may
   * or may not have been counted already). The list should be fetched again soon.
   */
  stale?: boolean
  /**
   * Incidents off this page whose entering or leaving the list has been counted in `total`, by
   * the version counted: the same change arriving again (the operator's own change, then its
   * live event) is not counted twice.
   */
  countedVersions?: ReadonlyMap<number, number>
}

export interface PageOptions {
  firstPage: boolean
  pageSize: number
  /** The list's `sort`, as sent to the service; `LIST_SORT` when not given. */
  sort?: string
}

/** The console's order: the newest report first (the service's default). */
export const LIST_SORT = '-last_reported_at'

type SortColumn =
  | 'last_reported_at'
  | 'first_reported_at'
  | 'due_at'
  | 'created_at'
  | 'updated_at'
  | 'id'
  | 'report_count'

/** The service's order for a `sort`: the column, incidents without a value last either way, then the id. */
export function compareBySort(sort: string): (a: Incident, b: Incident) => number {
  const descending = sort.startsWith('-')
  const column = sort.replace(/^-/, '') as SortColumn
  const valueOf = (incident: Incident): number | null => {
    const value: unknown = incident[column]
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN
    return Number.isNaN(n) ? null : n
  }
  return (a, b) => {
    const [va, vb] = [valueOf(a), valueOf(b)]
    if (va !== vb) {
      if (va === null) return 1
      if (vb === null) return -1
      return descending ? vb - va : va - vb
    }
    return descending ? b.id - a.id : a.id - b.id
  }
}

function insertSorted(
  items: readonly Incident[],
  incident: Incident,
  order: (a: Incident, b: Incident) => number,
): Incident[] {
  const at = items.findIndex((i) => order(incident, i) < 0)
  return at === -1 ? [...items, incident] : [...items.slice(0, at), incident, ...items.slice(at)]
}

/**
 * A matching incident that is not on the page: on the first page it takes its place in the order
 * when that place is on the page (the last row then moves on to the next page). Nothing is added
 * to a later page: what comes before it there is not known.
 */
function placeOffPageRow(page: ListPage, incident: Incident, options: PageOptions): Incident[] {
  if (!options.firstPage) return page.items
  const items = insertSorted(page.items, incident, compareBySort(options.sort ?? LIST_SORT))
  const fits = items[items.length - 1] !== incident || page.items.length >= page.total
  return fits ? items.slice(0, options.pageSize) : page.items
}

function withCounted(page: ListPage, incident: Incident): ReadonlyMap<number, number> {
  return new Map(page.countedVersions ?? []).set(incident.id, incident.version)
}

// What events change among the facets the list filters on, without saying what was there before.
const UNTOLD_CHANGES: Record<string, readonly (keyof ListFilter)[]> = {
  report_detached: ['source'], // a department may leave with its report
  absorbed: ['source', 'overdue', 'assignee'], // the merged incident's departments, deadline, assignee
  entity_linked: ['entity_id', 'category', 'grid', 'overdue'], // a lone report placed again
  report_revised: ['entity_id', 'category', 'grid', 'overdue'],
}

/** The states the incident may have had just before the event; undefined when they cannot be told. */
function statesBefore(
  type: string,
  after: Incident,
  data: Record<string, unknown>,
  filter: ListFilter,
): Incident[] | undefined {
  const isStatus = (value: unknown): value is IncidentStatus => (statusValues as readonly unknown[]).includes(value)
  switch (type) {
    case 'note_added':
    case 'attachment_added':
    case 'report_updated':
      return [after]
    case 'status_changed':
      return isStatus(data.from) ? [{ ...after, status: data.from }] : undefined
    case 'assigned': {
      const previous = data.previous_assignee
      if (!isStatus(data.from) || !(previous === null || typeof previous === 'string')) return undefined
      return [{ ...after, status: data.from, assignee: previous }]
    }
    case 'escalated': // overdue already when it opened past its deadline, or not until now
      return [
        { ...after, overdue: false },
        { ...after, overdue: true },
      ]
    case 'merged': // only an open incident is merged
      return OPEN_STATUSES.map((status) => ({ ...after, status }))
    case 'report_attached': // the report's department may be new to the incident
      if (typeof data.source !== 'string') return undefined
      return [after, { ...after, sources: after.sources.filter((s) => s !== data.source) }]
    default: {
      const untold = UNTOLD_CHANGES[type]
      if (!untold) return undefined // an event this screen does not know
      return untold.some((facet) => filter[facet] !== '') ? undefined : [after]
    }
  }
}

/**
 * Whether the incident matched the filter just before this event, as far as the event tells
 * (its type, and the previous values it carries: `from`, `previous_assignee`): true or false, or
 * undefined when it cannot be known.
 */
export function matchedBefore(message: EventMessage, filter: ListFilter): boolean | undefined {
  if (message.event.type === 'created') return false
  const after = message.incident
  if (!after) return undefined
  const states = statesBefore(message.event.type, after, message.event.data ?? {}, filter)
  if (!states) return undefined
  const answers = new Set(states.map((state) => matchesFilter(state, filter)))
  return answers.size === 1 ? answers.has(true) : undefined
}

/**
 * One incident's new state into a page in the list's order. A row on the page is replaced and
 * keeps to the order, or dropped (one fewer) when it no longer matches. An incident off the page
 * changes `total` only when it is known to enter or leave the list (`wasMatching`): one that was
 * matching already is counted already, wherever it was. When that is not known the count is
 * left alone and the page is marked stale, to be fetched again. The page keeps its size.
 */
export function applyIncident(
  page: ListPage,
  incident: Incident,
  filter: ListFilter,
  options: PageOptions,
  wasMatching?: boolean,
): ListPage {
  const index = page.items.findIndex((i) => i.id === incident.id)
  const matches = matchesFilter(incident, filter)
  if (index !== -1) {
    const shown = page.items[index] as Incident
    if (incident.version < shown.version) return page // an older state than the one shown
    const others = page.items.filter((_, i) => i !== index)
    if (!matches) {
      const countedVersions = withCounted(page, incident)
      return { ...page, items: others, total: Math.max(0, page.total - 1), countedVersions }
    }
    return { ...page, items: insertSorted(others, incident, compareBySort(options.sort ?? LIST_SORT)) }
  }
  if ((page.countedVersions?.get(incident.id) ?? 0) >= incident.version) return page // counted already
  if (wasMatching === undefined) {
    return { ...page, items: matches ? placeOffPageRow(page, incident, options) : page.items, stale: true }
  }
  if (matches === wasMatching) {
    if (!matches) return page // outside the list before and after
    const items = placeOffPageRow(page, incident, options)
    return items === page.items ? page : { ...page, items } // counted already, on another page
  }
  const countedVersions = withCounted(page, incident)
  if (matches) {
    return { ...page, items: placeOffPageRow(page, incident, options), total: page.total + 1, countedVersions }
  }
  return { ...page, total: Math.max(0, page.total - 1), countedVersions }
}

export function applyEventsToPage(
  page: ListPage,
  events: readonly EventMessage[],
  filter: ListFilter,
  options: PageOptions,
): ListPage {
  let next = page
  for (const event of events) {
    if (event.incident) next = applyIncident(next, event.incident, filter, options, matchedBefore(event, filter))
  }
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
