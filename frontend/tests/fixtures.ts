import type {
  EventMessage,
  Incident,
  LedgerEvent,
  RemovedMessage,
  SnapshotMessage,
  Stats,
} from '../src/api/types'

export function incident(id: number, overrides: Partial<Incident> = {}): Incident {
  return {
    id,
    category: 'fire',
    category_name: '消防安全',
    severity: 'medium',
    status: 'new',
    entity_id: `LF-${String(id).padStart(6, '0')}`,
    entity_name: `店铺${id}`,
    title: `问题${id}`,
    address: `临汾路${id}号`,
    lat: 31.3,
    lng: 121.45,
    grid: 'LF-01',
    sources: ['police'],
    report_count: 1,
    first_reported_at: '2026-11-28T06:00:00Z',
    last_reported_at: '2026-11-28T06:00:00Z',
    assignee: null,
    due_at: null,
    overdue: false,
    version: 1,
    merged_into: null,
    resolution_note: null,
    created_at: '2026-11-28T06:00:00Z',
    updated_at: '2026-11-28T06:00:00Z',
    ...overrides,
  }
}

export function stats(overrides: Partial<Stats> = {}): Stats {
  return {
    open: 0,
    new_today: 0,
    resolved_today: 0,
    overdue: 0,
    open_by_category: {},
    open_by_source: {},
    open_by_grid: {},
    trend: [
      { date: '2026-11-27', new: 3, resolved: 1 },
      { date: '2026-11-28', new: 0, resolved: 0 },
    ],
    top_entities: [],
    as_of: '2026-11-28T06:00:00Z',
    ...overrides,
  }
}

export function snapshot(seq: number, incidents: Incident[], s: Stats = stats(), epoch = 'e1'): SnapshotMessage {
  return { type: 'snapshot', epoch, seq, incidents, stats: s }
}

export function removed(seq: number, incidentId: number): RemovedMessage {
  return { type: 'removed', seq, incident_id: incidentId }
}

export function event(
  seq: number,
  type: LedgerEvent['type'],
  inc: Incident,
  at = '2026-11-28T07:00:00Z',
  data: Record<string, unknown> = {},
): EventMessage {
  return {
    type: 'event',
    seq,
    event: { seq, type, incident_id: inc.id, actor: 'system', at, data },
    incident: inc,
  }
}
