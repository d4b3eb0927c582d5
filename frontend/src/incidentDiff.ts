// What changed in an incident between the version someone was looking at and the current one,
// in words — shown after a 409 so nobody acts on a stale picture.
import type { Incident } from './api/types'
import { formatDateTime } from './format'
import { categoryName, severityName, sourceName, statusName } from './labels'

type Field = {
  label: string
  show: (i: Incident) => string
}

const FIELDS: Field[] = [
  { label: '状态', show: (i) => statusName(i.status) },
  { label: '处置人', show: (i) => i.assignee ?? '未派遣' },
  { label: '类别', show: (i) => categoryName(i.category, i.category_name) },
  { label: '等级', show: (i) => severityName(i.severity) },
  { label: '报告数', show: (i) => String(i.report_count) },
  { label: '来源', show: (i) => i.sources.map((s) => sourceName(s, true)).join('、') },
  { label: '期限', show: (i) => formatDateTime(i.due_at) },
  { label: '超期', show: (i) => (i.overdue ? '是' : '否') },
  { label: '合并至', show: (i) => (i.merged_into === null ? '—' : `#${i.merged_into}`) },
]

export function describeChanges(before: Incident, after: Incident): string[] {
  const changes: string[] = []
  for (const field of FIELDS) {
    const was = field.show(before)
    const now = field.show(after)
    if (was !== now) changes.push(`${field.label}：${was} → ${now}`)
  }
  if (changes.length === 0 && before.version !== after.version) changes.push('有新的备注或附件')
  return changes
}
