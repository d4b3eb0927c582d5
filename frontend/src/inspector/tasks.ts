// The inspector's task list: what to do first, and how much time each task has left.
import type { Incident } from '../api/types'

type Task = Pick<Incident, 'id' | 'overdue' | 'due_at' | 'first_reported_at'>

function dueMs(task: Task): number | null {
  if (!task.due_at) return null
  const ms = Date.parse(task.due_at)
  return Number.isNaN(ms) ? null : ms
}

/** Past its deadline by the server's word, or by the clock since the list was fetched. */
export function isOverdue(task: Task, nowMs: number): boolean {
  const due = dueMs(task)
  return task.overdue || (due !== null && due <= nowMs)
}

/**
 * Overdue tasks first, then the nearest deadline; tasks without a deadline last, the oldest
 * report first. A new array; the input is left as it is.
 */
export function sortTasks<T extends Task>(tasks: readonly T[], nowMs: number): T[] {
  const key = (task: T): [number, number, number] => {
    const due = dueMs(task)
    const rank = isOverdue(task, nowMs) ? 0 : due !== null ? 1 : 2
    const reported = Date.parse(task.first_reported_at)
    return [rank, due ?? Number.POSITIVE_INFINITY, Number.isNaN(reported) ? 0 : reported]
  }
  return [...tasks].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)]
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2] || a.id - b.id
  })
}

/** A span in its largest whole unit: 12分钟, 3小时, 2天. */
export function coarseDuration(ms: number): string {
  const minutes = Math.max(1, Math.floor(Math.abs(ms) / 60_000))
  if (minutes < 60) return `${minutes}分钟`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}小时`
  return `${Math.floor(hours / 24)}天`
}

export interface AgeLabel {
  text: string
  tone: 'overdue' | 'due' | 'open'
}

/** 超时 2小时 / 剩余 3小时 against the deadline; 已报 1天 when the task has none. */
export function taskAgeLabel(task: Task, nowMs: number): AgeLabel {
  const due = dueMs(task)
  if (due !== null && due <= nowMs) return { text: `超时 ${coarseDuration(nowMs - due)}`, tone: 'overdue' }
  if (task.overdue) return { text: '超时', tone: 'overdue' }
  if (due !== null) return { text: `剩余 ${coarseDuration(due - nowMs)}`, tone: 'due' }
  const reported = Date.parse(task.first_reported_at)
  if (Number.isNaN(reported)) return { text: '—', tone: 'open' }
  return { text: `已报 ${coarseDuration(nowMs - reported)}`, tone: 'open' }
}

/** How many tasks one request brings; 加载更多 brings the next as many. */
export const TASK_PAGE_SIZE = 50
/** The most the service answers in one request (GET /incidents, `limit`). */
const MAX_LIMIT = 500

/** One tab: the tasks loaded so far, and how many there are in all (the service's `total`). */
export interface TaskPage<T> {
  items: T[]
  total: number
}

export function hasMoreTasks(page: TaskPage<unknown>): boolean {
  return page.items.length < page.total
}

/**
 * The next page after what is loaded. A task the list already holds (the list moved while it was
 * read: a task finished, a new one came) is not shown twice; the total is the newest answer's.
 */
export function appendTasks<T extends { id: number }>(loaded: TaskPage<T>, next: TaskPage<T>): TaskPage<T> {
  const held = new Set(loaded.items.map((task) => task.id))
  return { items: [...loaded.items, ...next.items.filter((task) => !held.has(task.id))], total: next.total }
}

/** A refresh asks for as many as are shown, so it does not take back what 加载更多 brought. */
export function refreshLimit(shown: number): number {
  return Math.min(MAX_LIMIT, Math.max(TASK_PAGE_SIZE, Math.ceil(shown / TASK_PAGE_SIZE) * TASK_PAGE_SIZE))
}
