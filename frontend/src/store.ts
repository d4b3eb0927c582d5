// The wall's state as pure functions: a snapshot replaces it, each event moves it on.
// Values in, values out — no timers, no network, no Vue — so the rules are unit-tested.
import type {
  ChangeMessage,
  Epoch,
  EventMessage,
  Incident,
  IncidentStatus,
  SnapshotMessage,
  Stats,
} from './api/types'
import { statusValues } from './api/schema'
import { shanghaiDate } from './format'
import { isOpenStatus } from './lifecycle'

export const CLOSED_STATUSES: ReadonlySet<IncidentStatus> = new Set(statusValues.filter((s) => !isOpenStatus(s)))

/** How the service counts open incidents without a grid in open_by_grid. */
export const NO_GRID = '未分网格'

/** How many escalations the ticker remembers; the list stays bounded over weeks. */
export const ESCALATION_LIMIT = 20

export interface Escalation {
  seq: number
  incidentId: number
  title: string
  address: string | null
  at: string
}

export interface WallState {
  epoch: Epoch | null
  seq: number
  open: ReadonlyMap<number, Incident>
  stats: Stats | null
  escalations: readonly Escalation[]
}

export function emptyState(): WallState {
  return { epoch: null, seq: 0, open: new Map(), stats: null, escalations: [] }
}

export function isOpen(incident: Pick<Incident, 'status'>): boolean {
  return !CLOSED_STATUSES.has(incident.status)
}

/** A snapshot replaces everything: the open incidents, the figures, the position. */
export function applySnapshot(_state: WallState, message: SnapshotMessage): WallState {
  const open = new Map<number, Incident>()
  for (const incident of message.incidents) if (isOpen(incident)) open.set(incident.id, incident)
  return {
    epoch: message.epoch,
    seq: message.seq,
    open,
    stats: cloneStats(message.stats),
    escalations: [],
  }
}

/** One event; events at or below the current seq were seen already and change nothing. */
export function applyEvent(state: WallState, message: EventMessage): WallState {
  return applyEvents(state, [message])
}

/**
 * A burst of events (a resume replays many): one copy of the state, then each in order. A
 * removal (an inspector's incident given to someone else) drops the incident from the list; the
 * figures are the city's, which a removal does not change.
 */
export function applyEvents(state: WallState, messages: readonly ChangeMessage[]): WallState {
  if (!messages.some((m) => m.seq > state.seq)) return state
  const open = new Map(state.open)
  const stats = state.stats ? cloneStats(state.stats) : null
  let escalations = state.escalations
  let seq = state.seq
  for (const message of messages) {
    if (message.seq <= seq) continue // seen already: no duplicates, no going back
    seq = message.seq
    if (message.type === 'removed') {
      open.delete(message.incident_id)
      continue
    }
    const after = message.incident
    if (!after) continue
    const before = open.get(after.id) ?? null
    if (isOpen(after)) open.set(after.id, after)
    else open.delete(after.id)
    if (stats) countChange(stats, before, isOpen(after) ? after : null, message)
    if (message.event.type === 'escalated') {
      escalations = [
        { seq, incidentId: after.id, title: after.title, address: after.address, at: message.event.at },
        ...escalations,
      ].slice(0, ESCALATION_LIMIT)
    }
  }
  return { ...state, seq, open, stats, escalations }
}

/** Figures refreshed from GET /stats replace the optimistic ones. */
export function applyStats(state: WallState, stats: Stats): WallState {
  return { ...state, stats: cloneStats(stats) }
}

function cloneStats(stats: Stats): Stats {
  return {
    ...stats,
    open_by_category: { ...stats.open_by_category },
    open_by_source: { ...stats.open_by_source },
    open_by_grid: { ...stats.open_by_grid },
    trend: stats.trend.map((p) => ({ ...p })),
    top_entities: stats.top_entities.map((e) => ({ ...e })),
  }
}

function bump(counts: Record<string, number>, key: string, by: number): void {
  const next = (counts[key] ?? 0) + by
  if (next > 0) counts[key] = next
  else delete counts[key]
}

/** What one open incident adds to the open-incident figures (nothing when not open). */
function contribute(stats: Stats, incident: Incident | null, sign: 1 | -1): void {
  if (!incident) return
  stats.open = Math.max(0, stats.open + sign)
  if (incident.overdue) stats.overdue = Math.max(0, stats.overdue + sign)
  bump(stats.open_by_category, incident.category, sign)
  for (const source of new Set(incident.sources)) bump(stats.open_by_source, source, sign)
  bump(stats.open_by_grid, incident.grid ?? NO_GRID, sign)
}

/**
 * Optimistic figures between refreshes: take away what the incident counted before, add what
 * it counts now; count today's new and resolved ones. GET /stats corrects any drift.
 */
function countChange(
  stats: Stats,
  before: Incident | null,
  after: Incident | null,
  message: EventMessage,
): void {
  contribute(stats, before, -1)
  contribute(stats, after, 1)
  // The service counts an incident as new on the day of its first report, and as resolved on
  // the day it was resolved; the trend's last point is today.
  const today = stats.trend[stats.trend.length - 1]?.date ?? null
  const pointFor = (iso: string) => {
    const day = shanghaiDate(iso)
    return { point: stats.trend.find((p) => p.date === day), isToday: today === null || day === today }
  }
  if (message.event.type === 'created' && message.incident) {
    const { point, isToday } = pointFor(message.incident.first_reported_at)
    if (isToday) stats.new_today += 1
    if (point) point.new += 1
  }
  if (message.incident?.status === 'resolved' && before?.status !== 'resolved') {
    const { point, isToday } = pointFor(message.event.at)
    if (isToday) stats.resolved_today += 1
    if (point) point.resolved += 1
  }
}

// --- views of the state --------------------------------------------------------------

/** The live list: open incidents, most recently reported first, at most `limit` rows. */
export function liveRows(state: WallState, limit = 50): Incident[] {
  // Parse each time once, not once per comparison: this runs on every batch of events.
  const keyed = [...state.open.values()].map((incident) => ({
    incident,
    at: Date.parse(incident.last_reported_at) || 0,
  }))
  keyed.sort((a, b) => b.at - a.at || b.incident.id - a.incident.id)
  return keyed.slice(0, limit).map((k) => k.incident)
}

/** Overdue open incidents, longest overdue first. */
export function overdueIncidents(state: WallState, limit = 30): Incident[] {
  const keyed: { incident: Incident; due: number }[] = []
  for (const incident of state.open.values()) {
    if (!incident.overdue) continue
    const due = incident.due_at ? Date.parse(incident.due_at) : Number.NaN
    keyed.push({ incident, due: Number.isNaN(due) ? Number.POSITIVE_INFINITY : due })
  }
  keyed.sort((a, b) => a.due - b.due || a.incident.id - b.incident.id)
  return keyed.slice(0, limit).map((k) => k.incident)
}
