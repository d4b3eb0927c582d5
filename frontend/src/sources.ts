// The departments as the service describes them (GET /api/v1/sources): a new department shows on
// every screen with its own name, short label and colour as soon as its definition is installed,
// with nothing written per department here. A screen that stays open (the wall runs for days)
// fetches the list again when it meets a department it does not know yet: one installed since.
import { reactive } from 'vue'
import { api } from './api/client'
import type { SourceInfo } from './api/types'

const UNKNOWN_COLOR = '#9aa5b1'
// An unknown key asks for the list again at most this often (a key no list will ever name, too).
const ASK_AGAIN_MS = 30_000

interface Sources {
  list: SourceInfo[]
  byKey: Record<string, SourceInfo>
}

/** Reactive: templates that read it are drawn again when the list arrives. */
export const sources = reactive<Sources>({ list: [], byKey: {} })

export function setSources(list: readonly SourceInfo[]): void {
  sources.list = [...list]
  sources.byKey = Object.fromEntries(list.map((info) => [info.source, info]))
}

let loading: Promise<void> | null = null

/** Fetch the list once per page load (again after a failure, e.g. before a credential exists). */
export function loadSources(): Promise<void> {
  loading ??= api
    .sources()
    .then((list) => setSources(list))
    .catch(() => {
      loading = null
    })
  return loading
}

const askedAt = new Map<string, number>()

/** A key the loaded list does not name: a department installed since the page loaded; fetch again. */
function unknownSource(key: string): void {
  if (!sources.list.length || loading === null) return // the first list is still on its way
  const now = Date.now()
  if (now - (askedAt.get(key) ?? -Infinity) < ASK_AGAIN_MS) return
  askedAt.set(key, now)
  queueMicrotask(() => {
    loading = null
    void loadSources()
  })
}

/** The department's name (短名 with short), or its key until the list naming it has arrived. */
export function sourceName(key: string | null | undefined, short = false): string {
  if (!key) return '—'
  const info = sources.byKey[key]
  if (!info) {
    unknownSource(key)
    return key
  }
  return short ? info.label : info.name
}

export function sourceColor(key: string): string {
  const info = sources.byKey[key]
  if (!info) unknownSource(key)
  return info?.colour ?? UNKNOWN_COLOR
}

/** Every known department in the service's order. */
export function sourceKeys(): string[] {
  return sources.list.map((info) => info.source)
}
