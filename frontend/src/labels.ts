// Names and colours used on every screen. One accent colour per unified category, the same on
// the map, in the list and in the charts. The categories are the service's (service/vocabulary.py,
// through the generated schema): a category added there and not here fails the type check.
import type { Category, IncidentStatus, Severity } from './api/types'

export const CATEGORY_NAMES: Record<string, string> = {
  food: '食品安全',
  licence: '证照经营',
  price: '价格计量',
  street_order: '街面秩序',
  appearance: '市容环境',
  waste: '垃圾分类',
  noise: '噪声扰民',
  fire: '消防安全',
  order: '治安秩序',
  traffic: '交通秩序',
  other: '其他求助',
} satisfies Record<Category, string>

export const CATEGORY_ORDER = Object.keys(CATEGORY_NAMES)

// Chosen to stay apart from each other on a dark background and from the overdue red.
export const CATEGORY_COLORS: Record<string, string> = {
  food: '#ffd166',
  licence: '#f28ef9',
  price: '#b8e986',
  street_order: '#4cc9f0',
  appearance: '#3ddc84',
  waste: '#2ab7a9',
  noise: '#a78bfa',
  fire: '#ff7b00',
  order: '#5b8cff',
  traffic: '#ff8fab',
  other: '#9aa5b1',
} satisfies Record<Category, string>

export const OVERDUE_COLOR = '#ff3b3b'

export function categoryName(key: string, fallback?: string | null): string {
  return CATEGORY_NAMES[key] ?? fallback ?? key
}

export function categoryColor(key: string): string {
  return CATEGORY_COLORS[key] ?? '#9aa5b1'
}

// Departments are not written here: their names, short labels and colours come from the service
// (GET /api/v1/sources, fed by each department's definition), see ./sources.ts.
export { sourceColor, sourceKeys, sourceName } from './sources'

export const STATUS_NAMES: Record<IncidentStatus, string> = {
  new: '待派遣',
  dispatched: '已派遣',
  in_progress: '处置中',
  resolved: '待核查',
  closed: '已结案',
  rejected: '已驳回',
  merged: '已合并',
}

export function statusName(status: string): string {
  return STATUS_NAMES[status as IncidentStatus] ?? status
}

export const SEVERITY_NAMES: Record<Severity, string> = {
  low: '一般',
  medium: '较重',
  high: '严重',
  critical: '紧急',
}

export function severityName(severity: string): string {
  return SEVERITY_NAMES[severity as Severity] ?? severity
}

export const KIND_NAMES: Record<string, string> = {
  shop: '商户',
  hospital: '医院',
  school: '学校',
  other: '其他',
}

export const EVENT_NAMES: Record<string, string> = {
  created: '立案',
  report_attached: '新增报告',
  status_changed: '状态变更',
  assigned: '派遣',
  note_added: '备注',
  escalated: '升级',
  merged: '合并',
  attachment_added: '上传附件',
}

export function eventName(type: string): string {
  return EVENT_NAMES[type] ?? type
}

/** 统一社会信用代码 status as the entity file shows it. */
export function usccStatus(uscc: string | null, valid: boolean | null): '有效' | '校验位错误' | '缺失' {
  if (!uscc) return '缺失'
  return valid === false ? '校验位错误' : '有效'
}
