// One error type for every failed call, carrying the service's {"error": {...}} body.
import type { Incident, IncidentStatus } from './types'
import { statusValues } from './schema'
import { NOTE_MAX_LENGTH } from '../lifecycle'

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

function reasonOf(detail: unknown): string {
  const reason = (detail as { reason?: unknown } | null)?.reason
  return typeof reason === 'string' ? reason : ''
}

/** The length limit a detail names: `ctx.max_length` (pydantic) or "at most N characters". */
function maxLengthOf(detail: unknown): number | null {
  const ctx = (detail as { ctx?: { max_length?: unknown } } | null)?.ctx
  if (typeof ctx?.max_length === 'number') return ctx.max_length
  const stated = /at most (\d+)/i.exec(reasonOf(detail))
  return stated ? Number(stated[1]) : null
}

/**
 * A status note (`note`) or a note (`text`) refused: too long, missing, or something else. Only a
 * missing one is worth "需要填写" — a note that is too long must not read as one that is absent.
 */
function noteMessage(field: 'note' | 'text', detail: unknown): string {
  const name = field === 'note' ? '说明' : '备注'
  const reason = reasonOf(detail)
  const limit = maxLengthOf(detail)
  if (limit !== null || /too long|at most/i.test(reason)) return `${name}过长（最多 ${limit ?? NOTE_MAX_LENGTH} 字）`
  if (reason === '' || /required|missing|at least|blank|empty/i.test(reason)) {
    return field === 'note' ? '此操作需要填写说明或理由' : '请填写备注'
  }
  return `${name}无法保存，请检查内容`
}

function fieldMessage(detail: unknown): string | undefined {
  const field = fieldOf(detail)
  if (field === 'note' || field === 'text') return noteMessage(field, detail)
  return field === null ? undefined : FIELD_MESSAGES[field]
}

export function apiErrorFrom(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
    ?.error
  const code = typeof error?.code === 'string' ? error.code : `http_${status}`
  const serverMessage = typeof error?.message === 'string' ? error.message : ''
  const details = Array.isArray(error?.details) ? error.details : []
  const byField = details.map(fieldMessage).find((m) => m !== undefined)
  const notOpen = details.some((d) => reasonOf(d) === 'not open')
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

/**
 * The status change itself was refused (the lifecycle forbids it), as opposed to something that
 * came with it, such as its note: only then is "cannot change to …" the right thing to say.
 */
export function isTransitionRefused(error: ApiError): boolean {
  return error.status === 422 && error.details.some((detail) => fieldOf(detail) === 'status')
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
