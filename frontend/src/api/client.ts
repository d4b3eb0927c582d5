// A thin typed wrapper over openapi-fetch and the generated schema (`npm run types`).
// Where the schema is open (the entity file's lists, stats), the answer is given its contract
// type here, once, and the pages see only those types.
import createClient, { type Middleware } from 'openapi-fetch'
import { currentCredential } from '../auth'
import { ApiError, apiErrorFrom, networkError } from './errors'
import type { paths } from './schema'
import type { EntityDetail, IncidentQuery, IncidentStatus, Stats } from './types'

export { ApiError } from './errors'

const http = createClient<paths>({ baseUrl: '' })

const bearer: Middleware = {
  onRequest({ request }) {
    const credential = currentCredential()
    if (credential) request.headers.set('Authorization', `Bearer ${credential}`)
    return request
  },
}
http.use(bearer)

type Unauthorized = (error: ApiError) => void
let onUnauthorized: Unauthorized = () => {}

/** Pages that belong to a logged-in person send them to /login on a 401. */
export function setUnauthorizedHandler(handler: Unauthorized): void {
  onUnauthorized = handler
}

interface Outcome<T> {
  data?: T
  error?: unknown
  response: Response
}

async function call<T>(request: () => Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>
  try {
    outcome = await request()
  } catch (cause) {
    throw networkError(cause)
  }
  const { data, error, response } = outcome
  if (!response.ok) {
    const apiError = apiErrorFrom(response.status, error)
    if (response.status === 401) onUnauthorized(apiError)
    throw apiError
  }
  return data as T
}

function definedOnly<Q extends object>(query: Q): Q {
  return Object.fromEntries(
    Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as Q
}

export const api = {
  login: (username: string, password: string) =>
    call(() =>
      http.POST('/api/v1/auth/token', {
        body: { username, password, grant_type: 'password', scope: '' },
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    ),
  wsTicket: () => call(() => http.POST('/api/v1/auth/ws-ticket')),
  me: () => call(() => http.GET('/api/v1/auth/me')),
  /** The ledger's epoch and head, without reading any event (a since past the head). */
  ledgerHead: async () => {
    const page = await call(() =>
      http.GET('/api/v1/events', { params: { query: { since: Number.MAX_SAFE_INTEGER, limit: 1 } } }),
    )
    return { epoch: page.epoch, headSeq: page.head_seq }
  },
  stats: async () => (await call(() => http.GET('/api/v1/stats'))) as unknown as Stats,
  /** Every department: name, short label and colour, from its definition or adapter. */
  sources: () => call(() => http.GET('/api/v1/sources')),
  mapEntities: () => call(() => http.GET('/api/v1/map/entities')),
  /** The residents' pain points over the last `days` local days (the service's default: 30). */
  painPoints: (query: { from?: string; to?: string; community?: string; limit?: number } = {}) =>
    call(() => http.GET('/api/v1/painpoints', { params: { query: definedOnly(query) } })),

  incidents: (query: IncidentQuery) =>
    call(() =>
      http.GET('/api/v1/incidents', { params: { query: definedOnly(query) } }),
    ),
  incident: (id: number) =>
    call(() =>
      http.GET('/api/v1/incidents/{incident_id}', { params: { path: { incident_id: id } } }),
    ),
  setStatus: (id: number, status: IncidentStatus, note: string | null, expectedVersion: number) =>
    call(() =>
      http.POST('/api/v1/incidents/{incident_id}/status', {
        params: { path: { incident_id: id } },
        body: { status, note, expected_version: expectedVersion },
      }),
    ),
  assign: (id: number, assignee: string, expectedVersion: number) =>
    call(() =>
      http.POST('/api/v1/incidents/{incident_id}/assign', {
        params: { path: { incident_id: id } },
        body: { assignee, expected_version: expectedVersion },
      }),
    ),
  addNote: (id: number, text: string) =>
    call(() =>
      http.POST('/api/v1/incidents/{incident_id}/notes', {
        params: { path: { incident_id: id } },
        body: { text },
      }),
    ),
  uploadAttachment: (id: number, file: File) => {
    const form = new FormData()
    form.append('file', file, file.name)
    return call(() =>
      http.POST('/api/v1/incidents/{incident_id}/attachments', {
        params: { path: { incident_id: id } },
        // multipart: hand the FormData through; the browser sets the boundary.
        body: form as unknown as { file: string },
        bodySerializer: (body) => body,
      }),
    )
  },
  merge: (id: number, into: number) =>
    call(() =>
      http.POST('/api/v1/incidents/{incident_id}/merge', {
        params: { path: { incident_id: id } },
        body: { into },
      }),
    ),

  users: (role?: string) =>
    call(() => http.GET('/api/v1/users', { params: { query: definedOnly({ role }) } })),
  unlinkedRecords: (limit: number, offset: number) =>
    call(() =>
      http.GET('/api/v1/records', { params: { query: { linked: false, limit, offset } } }),
    ),
  linkRecord: (id: number, entityId: string) =>
    call(() =>
      http.POST('/api/v1/records/{record_id}/link', {
        params: { path: { record_id: id } },
        body: { entity_id: entityId },
      }),
    ),
  entities: (q: string, limit = 20, offset = 0) =>
    call(() =>
      http.GET('/api/v1/entities', { params: { query: definedOnly({ q, limit, offset }) } }),
    ),
  entity: async (id: string) =>
    (await call(() =>
      http.GET('/api/v1/entities/{entity_id}', { params: { path: { entity_id: id } } }),
    )) as unknown as EntityDetail,
}
