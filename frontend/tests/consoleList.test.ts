import { describe, expect, it } from 'vitest'
import type { Incident, IncidentStatus } from '../src/api/types'
import {
  EMPTY_FILTER,
  LIST_SORT,
  PendingEvents,
  applyEventsToPage,
  applyIncident,
  compareBySort,
  matchedBefore,
  matchesFilter,
  type ListPage,
} from '../src/consoleList'
import { event, incident } from './fixtures'

const opts = { firstPage: true, pageSize: 3 }

describe('matchesFilter', () => {
  it('applies every filter the list offers', () => {
    const i = incident(1, { status: 'dispatched', sources: ['police', 'city'], grid: 'LF-02', assignee: 'wang', overdue: true })
    expect(matchesFilter(i, EMPTY_FILTER)).toBe(true)
    expect(matchesFilter(i, { ...EMPTY_FILTER, status: '' })).toBe(true)
    expect(matchesFilter(i, { ...EMPTY_FILTER, status: 'new,dispatched' })).toBe(true)
    expect(matchesFilter({ ...i, status: 'closed' }, EMPTY_FILTER)).toBe(false)
    expect(matchesFilter(i, { ...EMPTY_FILTER, source: 'city' })).toBe(true)
    expect(matchesFilter(i, { ...EMPTY_FILTER, source: 'market' })).toBe(false)
    expect(matchesFilter(i, { ...EMPTY_FILTER, status: 'new' })).toBe(false)
    expect(matchesFilter(i, { ...EMPTY_FILTER, overdue: 'false' })).toBe(false)
    expect(matchesFilter(i, { ...EMPTY_FILTER, assignee: 'wang', grid: 'LF-02' })).toBe(true)
  })
})

describe('applyIncident', () => {
  const page = { items: [incident(3), incident(2), incident(1)], total: 10 }

  it('adds a new matching incident on top of the first page, keeping the size', () => {
    const next = applyIncident(page, incident(4), EMPTY_FILTER, opts, false)
    expect(next.items.map((i) => i.id)).toEqual([4, 3, 2])
    expect(next.total).toBe(11)
  })

  it('does not add rows to a later page', () => {
    const next = applyIncident(page, incident(4), EMPTY_FILTER, { ...opts, firstPage: false }, false)
    expect(next.items.map((i) => i.id)).toEqual([3, 2, 1])
    expect(next.total).toBe(11)
  })

  it('replaces in place, or moves to the top on a newer report', () => {
    const inPlace = applyIncident(page, incident(2, { status: 'dispatched', version: 2 }), EMPTY_FILTER, opts)
    expect(inPlace.items.map((i) => [i.id, i.status])).toEqual([[3, 'new'], [2, 'dispatched'], [1, 'new']])
    const moved = applyIncident(page, incident(1, { last_reported_at: '2026-11-28T09:00:00Z', version: 2 }), EMPTY_FILTER, opts)
    expect(moved.items.map((i) => i.id)).toEqual([1, 3, 2])
  })

  it('drops a row that no longer matches', () => {
    const next = applyIncident(page, incident(2, { status: 'closed', version: 2 }), { ...EMPTY_FILTER, status: 'new' }, opts)
    expect(next.items.map((i) => i.id)).toEqual([3, 1])
    expect(next.total).toBe(9)
  })

  it('ignores an older state than the one shown', () => {
    const shown = { items: [incident(1, { version: 5, status: 'resolved' })], total: 1 }
    expect(applyIncident(shown, incident(1, { version: 4 }), EMPTY_FILTER, opts)).toBe(shown)
  })

  it('applies a run of events in order', () => {
    const next = applyEventsToPage(
      page,
      [event(1, 'created', incident(5)), event(2, 'status_changed', incident(5, { status: 'rejected', version: 2 }))],
      { ...EMPTY_FILTER, status: 'new' },
      opts,
    )
    // the short-lived row pushed #1 off the page; the count is right and a reload refills it
    expect(next.items.map((i) => i.id)).toEqual([3, 2])
    expect(next.total).toBe(10)
  })
})

describe('applyIncident, off the page', () => {
  const at = (hour: number) => `2026-11-28T${String(hour).padStart(2, '0')}:00:00Z`
  // The first page of 232 open incidents: #30, #20, #10, the newest reports.
  const firstPage: ListPage = {
    items: [
      incident(30, { last_reported_at: at(9) }),
      incident(20, { last_reported_at: at(8) }),
      incident(10, { last_reported_at: at(7) }),
    ],
    total: 232,
  }

  it('does not count again an incident that was in the list already, nor move it to the top', () => {
    const older = incident(5, { status: 'dispatched', assignee: 'wang', last_reported_at: at(1), version: 2 })
    const data = { assignee: 'wang', previous_assignee: null, from: 'new', to: 'dispatched' }
    const assigned = event(1, 'assigned', older, undefined, data)
    const escalated = event(2, 'escalated', { ...older, overdue: true, version: 3 })
    const next = applyEventsToPage(firstPage, [assigned, escalated], EMPTY_FILTER, opts)
    expect(next.total).toBe(232)
    expect(next.items.map((i) => i.id)).toEqual([30, 20, 10])
    expect(next).toBe(firstPage) // nothing on screen changed: a paused list holds nothing back
  })

  it('counts one fewer when an incident on another page leaves the list', () => {
    const closed = incident(5, { status: 'closed', last_reported_at: at(1), version: 4 })
    const closing = event(1, 'status_changed', closed, undefined, { from: 'resolved', to: 'closed' })
    const next = applyEventsToPage(firstPage, [closing], EMPTY_FILTER, opts)
    expect(next.total).toBe(231)
    expect(next.items.map((i) => i.id)).toEqual([30, 20, 10])
  })

  it('counts a new incident, and shows it only where the order puts it', () => {
    const lateReport = event(1, 'created', incident(40, { last_reported_at: at(2) }))
    const late = applyEventsToPage(firstPage, [lateReport], EMPTY_FILTER, opts)
    expect(late.total).toBe(233)
    expect(late.items.map((i) => i.id)).toEqual([30, 20, 10])
    const newer = event(1, 'created', incident(41, { last_reported_at: at(8) }))
    const between = applyEventsToPage(firstPage, [newer], EMPTY_FILTER, opts)
    expect(between.total).toBe(233)
    expect(between.items.map((i) => i.id)).toEqual([30, 41, 20])
  })

  it('moves an incident from another page into its place on a newer report, counting nothing', () => {
    const reported = incident(5, { last_reported_at: at(10), report_count: 2, version: 2 })
    const attached = event(1, 'report_attached', reported, undefined, { source: 'police' })
    const next = applyEventsToPage(firstPage, [attached], EMPTY_FILTER, opts)
    expect(next.total).toBe(232)
    expect(next.items.map((i) => i.id)).toEqual([5, 30, 20])
  })

  it('keeps the order when a row on the page changes without a newer report', () => {
    const assigned = incident(20, { status: 'dispatched', assignee: 'wang', last_reported_at: at(8), version: 2 })
    const next = applyIncident(firstPage, assigned, EMPTY_FILTER, opts, true)
    expect(next.items.map((i) => [i.id, i.status])).toEqual([[30, 'new'], [20, 'dispatched'], [10, 'new']])
    expect(next.total).toBe(232)
  })

  it('leaves the count alone and asks for a reload when the event does not tell', () => {
    const noted = incident(5, { status: 'dispatched', version: 2 })
    const next = applyIncident(firstPage, noted, EMPTY_FILTER, opts)
    expect(next.total).toBe(232)
    expect(next.stale).toBe(true)
  })

  it('counts the operator’s own change once, when its live event follows', () => {
    const filter = { ...EMPTY_FILTER, status: 'new' }
    const page = { items: [incident(3), incident(2), incident(1)], total: 10 }
    const dispatched = incident(2, { status: 'dispatched', assignee: 'wang', version: 2 })
    const own = applyIncident(page, dispatched, filter, opts)
    const data = { assignee: 'wang', previous_assignee: null, from: 'new', to: 'dispatched' }
    const next = applyEventsToPage(own, [event(1, 'assigned', dispatched, undefined, data)], filter, opts)
    expect(next.items.map((i) => i.id)).toEqual([3, 1])
    expect(next.total).toBe(9)
  })
})

describe('matchedBefore', () => {
  const filter = { ...EMPTY_FILTER, status: 'new,dispatched', overdue: 'true' as const }

  it('puts back what the event says it changed', () => {
    const dispatched = incident(1, { status: 'dispatched', overdue: true })
    expect(matchedBefore(event(1, 'created', dispatched), filter)).toBe(false)
    expect(matchedBefore(event(1, 'status_changed', dispatched, undefined, { from: 'new' }), filter)).toBe(true)
    const started = incident(1, { status: 'in_progress', overdue: true })
    expect(matchedBefore(event(1, 'status_changed', started, undefined, { from: 'dispatched' }), filter)).toBe(true)
    expect(matchedBefore(event(1, 'note_added', started), filter)).toBe(false)
    const data = { assignee: 'li', previous_assignee: 'wang', from: 'dispatched', to: 'dispatched' }
    const reassigned = event(1, 'assigned', dispatched, undefined, data)
    expect(matchedBefore(reassigned, { ...EMPTY_FILTER, assignee: 'wang' })).toBe(true)
    expect(matchedBefore(reassigned, { ...EMPTY_FILTER, assignee: 'li' })).toBe(false)
  })

  it('knows when what changed does not matter to the filter', () => {
    const escalated = incident(1, { status: 'dispatched', overdue: true })
    expect(matchedBefore(event(1, 'escalated', escalated), EMPTY_FILTER)).toBe(true)
    const merged = incident(1, { status: 'merged', merged_into: 2 })
    expect(matchedBefore(event(1, 'merged', merged), EMPTY_FILTER)).toBe(true)
    const attached = event(1, 'report_attached', incident(1, { sources: ['police', 'city'] }), undefined, { source: 'city' })
    expect(matchedBefore(attached, { ...EMPTY_FILTER, source: 'police' })).toBe(true)
  })

  it('says it cannot tell rather than guess', () => {
    const escalated = incident(1, { status: 'dispatched', overdue: true })
    expect(matchedBefore(event(1, 'escalated', escalated), filter)).toBeUndefined() // overdue from the start?
    const attached = event(1, 'report_attached', incident(1, { sources: ['police', 'city'] }), undefined, { source: 'city' })
    expect(matchedBefore(attached, { ...EMPTY_FILTER, source: 'city' })).toBeUndefined() // city new, or not?
    expect(matchedBefore(event(1, 'status_changed', escalated), filter)).toBeUndefined() // no `from`
    expect(matchedBefore(event(1, 'report_revised', escalated), { ...EMPTY_FILTER, category: 'fire' })).toBeUndefined()
    expect(matchedBefore(event(1, 'something_new', escalated), EMPTY_FILTER)).toBeUndefined()
  })
})

/** A deterministic pseudo-random sequence (mulberry32). */
function randomFrom(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('the list under a stream of changes', () => {
  // A small service: incidents changed the way the workflow changes them, each with its event;
  // after each event the patched page is held against the service's own answer.
  const NEXT: Partial<Record<IncidentStatus, IncidentStatus[]>> = {
    new: ['rejected'],
    dispatched: ['in_progress', 'rejected'],
    in_progress: ['resolved'],
    resolved: ['closed', 'in_progress'],
  }
  const filters = [
    EMPTY_FILTER,
    { ...EMPTY_FILTER, status: 'dispatched,in_progress' },
    { ...EMPTY_FILTER, assignee: 'wang' },
    { ...EMPTY_FILTER, status: '', source: 'city' },
    { ...EMPTY_FILTER, overdue: 'true' as const },
  ]

  it.each(filters)('keeps the service’s count and order (%o)', (filter) => {
    const random = randomFrom(232)
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T
    const minute = (n: number) => new Date(Date.UTC(2026, 10, 27, 0, n)).toISOString()
    const server = new Map<number, Incident>()
    for (let id = 1; id <= 150; id++) {
      const status = pick<IncidentStatus>(['new', 'dispatched', 'in_progress', 'closed'])
      server.set(id, incident(id, { status, last_reported_at: minute(id) }))
    }
    const order = compareBySort(LIST_SORT)
    const query = () => [...server.values()].filter((i) => matchesFilter(i, filter)).sort(order)
    const options = { firstPage: true, pageSize: 20, sort: LIST_SORT }
    const load = (): ListPage => ({ items: query().slice(0, 20), total: query().length })
    let page = load()
    let clock = 200
    let reloads = 0

    for (let seq = 1; seq <= 600; seq++) {
      const before = pick([...server.values()])
      const open = NEXT[before.status] !== undefined
      const change = { ...before, version: before.version + 1 }
      let type: string
      let data: Record<string, unknown> = {}
      const roll = random()
      if (roll < 0.15) {
        const id = server.size + 1
        const reportedAt = random() < 0.5 ? clock++ : Math.floor(random() * clock) // now, or a late report
        server.set(id, incident(id, { last_reported_at: minute(reportedAt) }))
        page = applyEventsToPage(page, [event(seq, 'created', server.get(id) as Incident)], filter, options)
      } else {
        if (open && roll < 0.35) {
          type = 'assigned'
          change.assignee = pick(['wang', 'li'])
          if (before.status === 'new') change.status = 'dispatched'
          const previous = before.assignee
          data = { assignee: change.assignee, previous_assignee: previous, from: before.status, to: change.status }
        } else if (open && roll < 0.6) {
          type = 'status_changed'
          change.status = pick(NEXT[before.status] ?? [])
          data = { from: before.status, to: change.status, note: null }
        } else if (open && !before.overdue && roll < 0.7) {
          type = 'escalated'
          change.overdue = true
        } else if (open && roll < 0.85) {
          type = 'report_attached'
          const source = pick(['police', 'city'])
          change.sources = [...new Set([...before.sources, source])]
          change.last_reported_at = minute(clock++)
          data = { source }
        } else {
          type = 'note_added'
          data = { text: '已到场' }
        }
        server.set(change.id, change)
        page = applyEventsToPage(page, [event(seq, type, change, undefined, data)], filter, options)
      }

      if (page.stale) {
        reloads += 1
        page = load()
      }
      const expected = query()
      expect(page.total).toBe(expected.length)
      // the rows shown are the top of the list, as the service has them (a reload refills a short page)
      expect(page.items).toEqual(expected.slice(0, page.items.length))
    }
    // Only a report from the filtered department, or an escalation under 超期, leaves it untold.
    if (!filter.overdue && !filter.source) expect(reloads).toBe(0)
  })
})

describe('PendingEvents', () => {
  it('counts and hands back what was held', () => {
    const pending = new PendingEvents(10)
    pending.push(event(1, 'created', incident(1)))
    pending.push(event(2, 'created', incident(2)))
    expect(pending.size).toBe(2)
    const { events, reload } = pending.drain()
    expect(events.map((e) => e.seq)).toEqual([1, 2])
    expect(reload).toBe(false)
    expect(pending.size).toBe(0)
  })

  it('stays bounded: past the limit it asks for a reload', () => {
    const pending = new PendingEvents(3)
    for (let i = 1; i <= 1000; i++) pending.push(event(i, 'created', incident(i)))
    expect(pending.size).toBe(1000)
    const { events, reload } = pending.drain()
    expect(events).toEqual([])
    expect(reload).toBe(true)
  })
})
