// The API's shapes. They come from the service's OpenAPI document (`npm run types` writes
// ./schema.ts, committed); the words (status, severity, category, role) are the service's enums
// as the schema lists them. Only the shapes the schema leaves open (stats, the entity file's
// lists, the live stream) are written out here.
import type { components, paths } from './schema'

type Schemas = components['schemas']

/** A department's key: open on purpose (GET /api/v1/sources lists this deployment's), so a string. */
export type Source = string
/** How screens show a department: its name, short label and colour (GET /api/v1/sources). */
export type SourceInfo = Schemas['SourceOut']
export type Severity = Schemas['Severity']
export type IncidentStatus = Schemas['Status']
export type Category = Schemas['Category']
export type Role = Schemas['Role']
/** created, report_attached, status_changed, assigned, note_added, escalated, merged, attachment_added, … */
export type EventType = string

export type Incident = Schemas['IncidentOut']
export type LedgerEvent = Schemas['EventOut']
export type SourceRecord = Schemas['RecordOut']
export type Candidate = Schemas['CandidateOut']
export type Attachment = Schemas['AttachmentOut']
export type Note = Schemas['NoteOut']

export type IncidentDetail = Schemas['IncidentDetail']

export type Entity = Schemas['EntityOut']
export type TimelineItem = Schemas['TimelineItem']
// The schema leaves the file's records and incidents as open objects; they are these.
export type EntityDetail = Omit<Schemas['EntityFile'], 'records' | 'incidents'> & {
  records: SourceRecord[]
  incidents: Incident[]
}
export type MapEntity = Schemas['MapPoint']
/** GET /api/v1/painpoints: the residents' themes ranked, with the previous period's counts. */
export type PainPoints = Schemas['PainPoints']
export type PainPoint = Schemas['PainPoint']
export type ComplaintTheme = Schemas['ComplaintTheme']
export type TokenResponse = Schemas['TokenOut']
export type Me = Schemas['MeOut']
export type UserSummary = Schemas['UserOut']

export interface Page<T> {
  items: T[]
  total: number
}

export interface TrendPoint {
  date: string
  new: number
  resolved: number
}

export interface TopEntity {
  entity_id: string
  name: string
  incident_count: number
}

/** GET /api/v1/stats (the schema has it as an open object). */
export interface Stats {
  open: number
  new_today: number
  resolved_today: number
  overdue: number
  open_by_category: Record<string, number>
  open_by_source: Record<string, number>
  open_by_grid: Record<string, number>
  trend: TrendPoint[]
  top_entities: TopEntity[]
  as_of: string
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown[] }
}

/** GET /api/v1/incidents filters; `status` takes one word, several comma-separated, or 'open'. */
export type IncidentQuery = NonNullable<paths['/api/v1/incidents']['get']['parameters']['query']>

// --- live stream messages ------------------------------------------------------------

export type Epoch = string | number

export interface SnapshotMessage {
  type: 'snapshot'
  epoch: Epoch
  seq: number
  incidents: Incident[]
  stats: Stats
}

export interface EventMessage {
  type: 'event'
  seq: number
  event: LedgerEvent
  incident: Incident | null
}

/**
 * On an inspector's stream only: incident `incident_id` was given to someone else by the event
 * at `seq` (which is not sent to them). Drop it; `seq` counts as applied, as for an event.
 */
export interface RemovedMessage {
  type: 'removed'
  seq: number
  incident_id: number
}

export interface PingMessage {
  type: 'ping'
  seq: number
}

/** What moves a client's state on after its snapshot, one seq each. */
export type ChangeMessage = EventMessage | RemovedMessage

export type LiveMessage = SnapshotMessage | EventMessage | RemovedMessage | PingMessage
