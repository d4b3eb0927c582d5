// One error type for every failed call, carrying the service's {"error": {...}} body.
import type { Incident, IncidentStatus } from './types'
import { statusValues } from './schema'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown[]
  /** The service's own (English) message, kept for the console and support. */
  readonly serverMessage: string

  constructor(status: number, code: string, message: string, details: unknown[] = [], serverMessage = '') {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
    this.serverMessage = serverMessage
  }

  get isConflict(): boolean {
    return this.status === 409
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  0: '网络连接失败，请检查网络后重试',
  400: '请求有误',
  401: '登录已失效，请重新登录',
  403: '没有权限执行此操作',
  404: '未找到',
  409: '数据已被他人修改',
  413: '文件太大',
  415: '不支持的文件类型',
  422: '当前状态下不允许此操作',
  429: '操作太频繁，请稍后再试',
  500: '服务器出错，请稍后再试',
  503: '服务暂不可用，请稍后再试',
}

// The service words its messages in English; the screens speak Chinese. A field named in the
// details says what went wrong more precisely than the status alone.
const FIELD_MESSAGES: Record<string, string> = {
  note: '此操作需要填写说明或理由',
  assignee: '处置人不存在或已停用',
  into: '目标问题不存在或不能合并',
  expected_version: '数据已被他人修改，请刷新后再试',
  file: '文件无法接收（类型或大小不符）',
  entity_id: '主体不存在',
  password: '用户名或密码错误',
  username: '用户名或密码错误',
}

function fieldOf(detail: unknown): string | null {
  const field = (detail as { field?: unknown } | null)?.field
  return typeof field === 'string' ? field : null
}

export function apiErrorFrom(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
    ?.error
  const code = typeof error?.code === 'string' ? error.code : `http_${status}`
  const serverMessage = typeof error?.message === 'string' ? error.message : ''
  const details = Array.isArray(error?.details) ? error.details : []
  const fields = details.map(fieldOf).filter((f): f is string => f !== null)
  const byField = fields.map((f) => FIELD_MESSAGES[f]).find((m) => m !== undefined)
  const notOpen = details.some((d) => (d as { reason?: unknown } | null)?.reason === 'not open')
  const message = notOpen
    ? '该问题已结束，不能再操作'
    : status === 422 && byField
      ? byField
      : (FALLBACK_MESSAGES[status] ?? `请求失败（${status}）`)
  return new ApiError(status, code, message, details, serverMessage)
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError(0, 'network', FALLBACK_MESSAGES[0] as string)
  ;(error as { cause?: unknown }).cause = cause
  return error
}

function looksLikeIncident(value: unknown): value is Incident {
  const v = value as Partial<Incident> | null
  return !!v && typeof v === 'object' && typeof v.id === 'number' && typeof v.version === 'number'
}

/** A 409's details carry the incident as it is now; accept it bare or wrapped. */
export function incidentFromConflict(error: ApiError): Incident | null {
  for (const detail of error.details) {
    if (looksLikeIncident(detail)) return detail
    if (detail && typeof detail === 'object') {
      for (const value of Object.values(detail)) if (looksLikeIncident(value)) return value
    }
  }
  return null
}


/** A 422's details list the statuses allowed from here; accept strings or nested lists. */
export function allowedStatusesFrom(error: ApiError): IncidentStatus[] {
  const found = new Set<IncidentStatus>()
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3) return
    if (typeof value === 'string') {
      if ((statusValues as readonly string[]).includes(value)) found.add(value as IncidentStatus)
    } else if (Array.isArray(value)) {
      value.forEach((v) => visit(v, depth + 1))
    } else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) if (key !== 'current' && key !== 'status') visit(v, depth + 1)
    }
  }
  visit(error.details, 0)
  return [...found]
}
