// Times are shown in Shanghai time whatever the kiosk's own time zone is set to.
const TZ = 'Asia/Shanghai'

const dateTimeParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

const weekdayFormat = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, weekday: 'long' })

function parts(date: Date): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of dateTimeParts.formatToParts(date)) out[p.type] = p.value
  return out
}

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value)
}

/** YYYY-MM-DD of the Shanghai calendar day. */
export function shanghaiDate(value: Date | string | number): string {
  const p = parts(toDate(value))
  return `${p.year}-${p.month}-${p.day}`
}

export function formatTime(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  const d = toDate(value)
  if (Number.isNaN(d.getTime())) return '—'
  const p = parts(d)
  return `${p.hour}:${p.minute}:${p.second}`
}

export function formatHourMinute(value: Date | string | number | null | undefined): string {
  return formatTime(value).slice(0, 5)
}

export function formatDateTime(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  const d = toDate(value)
  if (Number.isNaN(d.getTime())) return '—'
  const p = parts(d)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}

export function formatWeekday(value: Date | number): string {
  return weekdayFormat.format(toDate(value))
}

/** Elapsed time in a few characters: 刚刚, 12分钟, 3小时20分, 2天5小时. */
export function formatAge(fromIso: string | null | undefined, nowMs: number): string {
  if (!fromIso) return '—'
  const from = Date.parse(fromIso)
  if (Number.isNaN(from)) return '—'
  return formatDuration(nowMs - from)
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000))
  if (minutes < 1) return '刚刚'
  if (minutes < 60) return `${minutes}分钟`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 ? `${hours}小时${minutes % 60}分` : `${hours}小时`
  const days = Math.floor(hours / 24)
  return hours % 24 ? `${days}天${hours % 24}小时` : `${days}天`
}

/** The wall's compact age: 12分钟, 3时20分, 29天2时 — at most about five characters. */
export function formatAgeShort(fromIso: string | null | undefined, nowMs: number): string {
  if (!fromIso) return '—'
  const from = Date.parse(fromIso)
  if (Number.isNaN(from)) return '—'
  const minutes = Math.max(0, Math.floor((nowMs - from) / 60_000))
  if (minutes < 1) return '刚刚'
  if (minutes < 60) return `${minutes}分钟`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}时${minutes % 60}分`
  const days = Math.floor(hours / 24)
  return days < 100 ? `${days}天${hours % 24}时` : `${days}天`
}

/** An address without its city and district prefix, for narrow places (上海市静安区临汾路375号 → 临汾路375号). */
export function shortAddress(address: string | null | undefined): string {
  if (!address) return ''
  return address.replace(/^[^\d\s路街巷弄号]{2,6}?市/, '').replace(/^[^\d\s路街巷弄号]{2,6}?[区县]/, '')
}
