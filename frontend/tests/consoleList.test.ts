import { describe, expect, it } from 'vitest'
import { EMPTY_FILTER, PendingEvents, applyEventsToPage, applyIncident, matchesFilter } from '../src/consoleList'
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
    const next = applyIncident(page, incident(4), EMPTY_FILTER, opts)
    expect(next.items.map((i) => i.id)).toEqual([4, 3, 2])
    expect(next.total).toBe(11)
  })

  it('does not add rows to a later page', () => {
    const next = applyIncident(page, incident(4), EMPTY_FILTER, { ...opts, firstPage: false })
    expect(next.items.map((i) => i.id)).toEqual([3, 2, 1])
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
