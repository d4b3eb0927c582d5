// Everything the wall knows, kept up to date: the live stream into the store, figures refreshed
// now and then, the register's points for the map. Bounded in every direction (weeks unattended).
import { onBeforeUnmount, onMounted, ref, shallowRef, type Ref, type ShallowRef } from 'vue'
import { api } from './api/client'
import type { ChangeMessage, MapEntity, SnapshotMessage } from './api/types'
import { currentCredential } from './auth'
import { LiveClient, type LiveStatus } from './live'
import { fetchLiveTicket } from './liveTicket'
import { applyEvents, applySnapshot, applyStats, emptyState, type WallState } from './store'

const FLUSH_MS = 50 // messages arriving together are drawn together
const STATS_MIN_INTERVAL_MS = 10_000 // the contract: at most every 10 s after events
const STATS_PERIOD_MS = 5 * 60_000 // and now and then anyway (midnight, quiet days)
const ENTITIES_PERIOD_MS = 60 * 60_000
const ENTITIES_RETRY_MS = 60_000
const GLOW_MS = 4_000
const GLOW_LIMIT = 200

export interface WallFeed {
  state: ShallowRef<WallState>
  status: Ref<LiveStatus>
  /** When data last arrived (any message): "数据截至 …". */
  freshAt: Ref<number | null>
  /** No display key at all, as opposed to a refused one. */
  missingKey: Ref<boolean>
  entities: ShallowRef<readonly MapEntity[]>
  /** Incidents changed in the last few seconds, for the rows' glow. */
  glowing: ShallowRef<ReadonlyMap<number, number>>
}

declare global {
  interface Window {
    __wall?: { readonly seq: number; readonly epoch: string | number | null; readonly status: LiveStatus; readonly incidentCount: number }
  }
}

export function useWallFeed(): WallFeed {
  const state = shallowRef<WallState>(emptyState())
  const status = ref<LiveStatus>('connecting')
  const freshAt = ref<number | null>(null)
  const missingKey = ref(false)
  const entities = shallowRef<readonly MapEntity[]>([])
  const glowing = shallowRef<ReadonlyMap<number, number>>(new Map())

  let pending: (SnapshotMessage | ChangeMessage)[] = []
  let flushTimer: ReturnType<typeof setTimeout> | null = null
  let statsTimer: ReturnType<typeof setTimeout> | null = null
  let statsPeriodic: ReturnType<typeof setInterval> | null = null
  let entitiesTimer: ReturnType<typeof setTimeout> | null = null
  let glowSweep: ReturnType<typeof setInterval> | null = null
  let lastStatsAt = 0
  let stopped = false

  const client = new LiveClient({
    fetchTicket: fetchLiveTicket,
    onMessage(message) {
      if (message.type === 'snapshot') pending = [message] // a snapshot supersedes what waits
      else pending.push(message)
      freshAt.value = client.lastMessageAt
      if (flushTimer === null) flushTimer = setTimeout(flush, FLUSH_MS)
    },
    onStatus(next) {
      status.value = next
      // Pings do not reach onMessage; the client's clock of the last message does.
      freshAt.value = client.lastMessageAt
    },
  })

  function flush(): void {
    flushTimer = null
    const batch = pending
    pending = []
    let next = state.value
    const events: ChangeMessage[] = []
    const changed: number[] = []
    for (const message of batch) {
      // A snapshot can only come first: onMessage drops what waited before it.
      if (message.type === 'snapshot') {
        next = applySnapshot(next, message)
        lastStatsAt = Date.now()
      } else {
        events.push(message)
        if (message.type === 'event' && message.incident) changed.push(message.incident.id)
      }
    }
    next = applyEvents(next, events)
    state.value = next
    if (events.length > 0) {
      markGlowing(changed)
      scheduleStatsRefresh()
    }
  }

  function markGlowing(ids: number[]): void {
    const now = Date.now()
    const next = new Map<number, number>()
    for (const [id, until] of glowing.value) if (until > now) next.set(id, until)
    for (const id of ids.slice(-GLOW_LIMIT)) {
      next.delete(id)
      next.set(id, now + GLOW_MS)
    }
    while (next.size > GLOW_LIMIT) next.delete(next.keys().next().value as number)
    glowing.value = next
  }

  function sweepGlow(): void {
    const now = Date.now()
    for (const until of glowing.value.values()) {
      if (until <= now) {
        markGlowing([])
        return
      }
    }
  }

  async function refreshStats(): Promise<void> {
    lastStatsAt = Date.now()
    try {
      const stats = await api.stats()
      if (!stopped) state.value = applyStats(state.value, stats)
    } catch {
      // the next event or period tries again; the optimistic figures stand meanwhile
    }
  }

  function scheduleStatsRefresh(): void {
    if (statsTimer !== null) return
    const wait = Math.max(0, lastStatsAt + STATS_MIN_INTERVAL_MS - Date.now())
    statsTimer = setTimeout(() => {
      statsTimer = null
      void refreshStats()
    }, wait)
  }

  async function loadEntities(): Promise<void> {
    let delay = ENTITIES_PERIOD_MS
    try {
      entities.value = (await api.mapEntities()).entities
    } catch {
      delay = ENTITIES_RETRY_MS
    }
    if (!stopped) entitiesTimer = setTimeout(() => void loadEntities(), delay)
  }

  onMounted(() => {
    window.__wall = Object.freeze({
      get seq() {
        return state.value.seq
      },
      get epoch() {
        return state.value.epoch
      },
      get status() {
        return status.value
      },
      get incidentCount() {
        return state.value.open.size
      },
    })
    if (!currentCredential()) {
      missingKey.value = true
      status.value = 'unauthorized'
      return
    }
    client.start()
    void loadEntities()
    statsPeriodic = setInterval(() => {
      void refreshStats()
      // The browser buffers a timing entry per request; a wall makes requests for weeks.
      performance.clearResourceTimings()
    }, STATS_PERIOD_MS)
    glowSweep = setInterval(sweepGlow, 1000)
  })

  onBeforeUnmount(() => {
    stopped = true
    client.stop()
    for (const timer of [flushTimer, statsTimer, entitiesTimer]) if (timer !== null) clearTimeout(timer)
    for (const timer of [statsPeriodic, glowSweep]) if (timer !== null) clearInterval(timer)
    pending = []
  })

  return { state, status, freshAt, missingKey, entities, glowing }
}
