import { describe, expect, it } from 'vitest'
import {
  TASK_PAGE_SIZE,
  appendTasks,
  coarseDuration,
  hasMoreTasks,
  refreshLimit,
  sortTasks,
  taskAgeLabel,
} from '../src/inspector/tasks'

const NOW = Date.parse('2026-11-28T12:00:00Z')

function task(id: number, due: string | null, overdue = false, reported = '2026-11-27T12:00:00Z') {
  return { id, due_at: due, overdue, first_reported_at: reported }
}

describe('inspector task order', () => {
  it('puts overdue tasks first, then the nearest deadline, then tasks without one', () => {
    const tasks = [
      task(1, null, false, '2026-11-28T10:00:00Z'),
      task(2, '2026-11-28T18:00:00Z'),
      task(3, '2026-11-28T09:00:00Z', true),
      task(4, '2026-11-28T13:00:00Z'),
      task(5, null, false, '2026-11-26T10:00:00Z'),
      task(6, '2026-11-28T11:00:00Z', true),
    ]
    expect(sortTasks(tasks, NOW).map((t) => t.id)).toEqual([3, 6, 4, 2, 5, 1])
  })
  it('counts a deadline that passed since the list was fetched as overdue', () => {
    const tasks = [task(1, '2026-11-28T15:00:00Z'), task(2, '2026-11-28T11:59:00Z', false)]
    expect(sortTasks(tasks, NOW).map((t) => t.id)).toEqual([2, 1])
  })
  it('leaves its input as it was', () => {
    const tasks = [task(1, null), task(2, '2026-11-28T09:00:00Z', true)]
    sortTasks(tasks, NOW)
    expect(tasks.map((t) => t.id)).toEqual([1, 2])
  })
})

describe('inspector age label', () => {
  it('says how late an overdue task is', () => {
    expect(taskAgeLabel(task(1, '2026-11-28T10:00:00Z', true), NOW)).toEqual({ text: '超时 2小时', tone: 'overdue' })
  })
  it('says how long is left before the deadline', () => {
    expect(taskAgeLabel(task(1, '2026-11-28T15:30:00Z'), NOW)).toEqual({ text: '剩余 3小时', tone: 'due' })
    expect(taskAgeLabel(task(1, '2026-11-28T12:20:00Z'), NOW).text).toBe('剩余 20分钟')
  })
  it('says how long ago a task without a deadline was reported', () => {
    expect(taskAgeLabel(task(1, null, false, '2026-11-27T11:00:00Z'), NOW)).toEqual({ text: '已报 1天', tone: 'open' })
  })
  it('rounds down to the largest whole unit', () => {
    expect(coarseDuration(30_000)).toBe('1分钟')
    expect(coarseDuration(59 * 60_000)).toBe('59分钟')
    expect(coarseDuration(47 * 3_600_000)).toBe('1天')
  })
})

describe('inspector tab paging', () => {
  const page = (ids: number[], total: number) => ({ items: ids.map((id) => task(id, null)), total })

  it('knows there is more than the first page', () => {
    expect(hasMoreTasks(page([1, 2], 130))).toBe(true)
    expect(hasMoreTasks(page([1, 2], 2))).toBe(false)
  })

  it('appends the next page without showing a task twice, taking the newest total', () => {
    const next = appendTasks(page([1, 2, 3], 130), page([3, 4, 5], 129))
    expect(next.items.map((t) => t.id)).toEqual([1, 2, 3, 4, 5])
    expect(next.total).toBe(129)
  })

  it('refreshes as many as are shown, within what one request may ask', () => {
    expect(refreshLimit(0)).toBe(TASK_PAGE_SIZE)
    expect(refreshLimit(TASK_PAGE_SIZE + 1)).toBe(2 * TASK_PAGE_SIZE)
    expect(refreshLimit(10_000)).toBe(500)
  })
})
