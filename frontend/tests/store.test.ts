import { describe, expect, it } from 'vitest'
import {
  ESCALATION_LIMIT,
  NO_GRID,
  applyEvent,
  applyEvents,
  applySnapshot,
  applyStats,
  emptyState,
  liveRows,
  overdueIncidents,
} from '../src/store'
import { event, incident, removed, snapshot, stats } from './fixtures'

const baseStats = stats({
  open: 2,
  overdue: 1,
  open_by_category: { fire: 2 },
  open_by_source: { police: 2 },
  open_by_grid: { 'LF-01': 2 },
})

function started() {
  return applySnapshot(
    emptyState(),
    snapshot(10, [incident(1), incident(2, { overdue: true })], baseStats),
  )
}

describe('applySnapshot', () => {
  it('replaces the whole state and keeps only open incidents', () => {
    const before = applyEvent(started(), event(11, 'created', incident(3)))
    const state = applySnapshot(
      before,
      snapshot(50, [incident(7), incident(8, { status: 'closed' })], stats({ open: 1 }), 'e2'),
    )
    expect(state.seq).toBe(50)
    expect(state.epoch).toBe('e2')
    expect([...state.open.keys()]).toEqual([7])
    expect(state.stats?.open).toBe(1)
  })

  it('does not share the snapshot objects it was given', () => {
    const message = snapshot(1, [], baseStats)
    const state = applySnapshot(emptyState(), message)
    state.stats!.open_by_category.fire = 99
    expect(message.stats.open_by_category.fire).toBe(2)
  })
})

describe('applyEvent', () => {
  it('adds a created incident and counts it', () => {
    const state = applyEvent(started(), event(11, 'created', incident(3, { category: 'noise', grid: 'LF-02', sources: ['city'] })))
    expect(state.seq).toBe(11)
    expect(state.open.has(3)).toBe(true)
    expect(state.stats).toMatchObject({
      open: 3,
      new_today: 1,
      open_by_category: { fire: 2, noise: 1 },
      open_by_source: { police: 2, city: 1 },
      open_by_grid: { 'LF-01': 2, 'LF-02': 1 },
    })
    expect(state.stats!.trend.at(-1)).toEqual({ date: '2026-11-28', new: 1, resolved: 0 })
  })

  it('ignores events at or below the last seq (no duplicates)', () => {
    const state = applyEvent(started(), event(11, 'created', incident(3)))
    expect(applyEvent(state, event(11, 'created', incident(3)))).toBe(state)
    expect(applyEvent(state, event(5, 'created', incident(4)))).toBe(state)
    expect(state.stats!.new_today).toBe(1)
  })

  it('removes an incident when it is closed, rejected or merged', () => {
    for (const status of ['closed', 'rejected', 'merged'] as const) {
      const state = applyEvent(started(), event(11, 'status_changed', incident(1, { status })))
      expect(state.open.has(1)).toBe(false)
      expect(state.stats).toMatchObject({ open: 1, open_by_category: { fire: 1 } })
    }
  })

  it('counts incidents without a grid under the service\'s own label', () => {
    const state = applyEvent(started(), event(11, 'created', incident(3, { grid: null })))
    expect(state.stats!.open_by_grid).toEqual({ 'LF-01': 2, [NO_GRID]: 1 })
  })

  it('keeps resolved incidents open and counts them resolved today once', () => {
    let state = applyEvent(started(), event(11, 'status_changed', incident(1, { status: 'resolved' })))
    state = applyEvent(state, event(12, 'note_added', incident(1, { status: 'resolved' })))
    expect(state.open.get(1)?.status).toBe('resolved')
    expect(state.stats).toMatchObject({ open: 2, resolved_today: 1 })
    expect(state.stats!.trend.at(-1)!.resolved).toBe(1)
  })

  it('moves the counts when an incident gains a source or becomes overdue', () => {
    const state = applyEvent(
      started(),
      event(11, 'escalated', incident(1, { overdue: true, sources: ['police', 'city'] })),
    )
    expect(state.stats).toMatchObject({ open: 2, overdue: 2, open_by_source: { police: 2, city: 1 } })
    expect(state.escalations[0]).toMatchObject({ incidentId: 1, seq: 11 })
  })

  it('counts a new incident on the day of its first report, as the service does', () => {
    const late = incident(3, { first_reported_at: '2026-11-27T03:00:00Z' })
    const state = applyEvent(started(), event(11, 'created', late, '2026-11-28T07:00:00Z'))
    expect(state.stats!.new_today).toBe(0)
    expect(state.stats!.trend[0]!.new).toBe(4)
  })

  it('leaves the previous state untouched', () => {
    const before = started()
    applyEvent(before, event(11, 'status_changed', incident(1, { status: 'closed' })))
    expect(before.open.has(1)).toBe(true)
    expect(before.stats!.open).toBe(2)
    expect(before.seq).toBe(10)
  })

  it('keeps the escalation list bounded', () => {
    let state = started()
    for (let seq = 11; seq < 11 + ESCALATION_LIMIT * 3; seq++) {
      state = applyEvent(state, event(seq, 'escalated', incident(1, { overdue: true })))
    }
    expect(state.escalations).toHaveLength(ESCALATION_LIMIT)
    expect(state.escalations[0]!.seq).toBe(10 + ESCALATION_LIMIT * 3)
  })
})

describe('applyEvents', () => {
  it('applies a replay in order and skips what was seen', () => {
    const state = applyEvents(started(), [
      event(9, 'created', incident(9)),
      event(11, 'created', incident(3)),
      event(11, 'created', incident(3)),
      event(12, 'status_changed', incident(3, { status: 'rejected' })),
      event(13, 'created', incident(4)),
    ])
    expect(state.seq).toBe(13)
    expect([...state.open.keys()].sort()).toEqual([1, 2, 4])
    expect(state.stats).toMatchObject({ open: 3, new_today: 2 })
  })

  it('gives the same state as applying one by one', () => {
    const events = [
      event(11, 'created', incident(3)),
      event(12, 'assigned', incident(3, { status: 'dispatched', assignee: 'wang' })),
      event(13, 'status_changed', incident(2, { status: 'closed', overdue: true })),
    ]
    const together = applyEvents(started(), events)
    const oneByOne = events.reduce(applyEvent, started())
    expect(together).toEqual(oneByOne)
  })
})

describe('removed (an inspector\'s incident given to someone else)', () => {
  it('drops the incident, takes the seq, and leaves the city\'s figures alone', () => {
    const before = started()
    const state = applyEvents(before, [removed(11, 2)])
    expect(state.seq).toBe(11)
    expect([...state.open.keys()]).toEqual([1])
    expect(state.stats).toEqual(before.stats)
    expect(before.open.has(2)).toBe(true) // the previous state is untouched
  })

  it('is skipped when seen already, and an incident assigned back returns with its event', () => {
    const state = applyEvents(started(), [
      removed(11, 2),
      removed(11, 2),
      removed(9, 1), // at or below the seq: seen already
      event(12, 'assigned', incident(2, { status: 'dispatched', assignee: 'zhang' })),
    ])
    expect(state.seq).toBe(12)
    expect([...state.open.keys()].sort()).toEqual([1, 2])
    expect(state.open.get(2)?.assignee).toBe('zhang')
  })

  it('of an incident not in the list changes nothing but the seq', () => {
    const state = applyEvents(started(), [removed(11, 99)])
    expect(state.seq).toBe(11)
    expect(state.open.size).toBe(2)
  })
})

describe('views', () => {
  it('lists newest first, bounded', () => {
    let state = started()
    for (let i = 0; i < 80; i++) {
      const at = new Date(Date.UTC(2026, 10, 28, 7, i)).toISOString()
      state = applyEvent(state, event(11 + i, 'created', incident(100 + i, { last_reported_at: at })))
    }
    const rows = liveRows(state, 50)
    expect(rows).toHaveLength(50)
    expect(rows[0]!.id).toBe(179)
    expect(rows[49]!.id).toBe(130)
  })

  it('lists overdue incidents longest overdue first', () => {
    const state = applySnapshot(
      emptyState(),
      snapshot(1, [
        incident(1, { overdue: true, due_at: '2026-11-28T05:00:00Z' }),
        incident(2, { overdue: true, due_at: '2026-11-28T01:00:00Z' }),
        incident(3),
      ]),
    )
    expect(overdueIncidents(state).map((i) => i.id)).toEqual([2, 1])
  })

  it('takes refreshed figures as they are', () => {
    const state = applyStats(started(), stats({ open: 42 }))
    expect(state.stats!.open).toBe(42)
    expect(state.open.size).toBe(2)
  })
})
