// The wall's pain-point rows (十大民生): what each theme's figures say, in zh-CN, from GET /api/v1/painpoints.
import type { PainPoint } from './api/types'

export type Trend = 'up' | 'down' | 'flat' | 'new'

export interface PainPointRow {
  rank: number
  theme: string
  label: string
  count: number
  /** ▲3 / ▼2 / 持平 / 新增: against the previous period of equal length. */
  trendText: string
  trend: Trend
  /** The community it touches most ("闻喜苑"), 未知 said as such; empty when none. */
  community: string
  /** count / the largest count shown, for the bar. */
  share: number
}

function trendOf(point: PainPoint): Trend {
  return point.trend === 'up' || point.trend === 'down' || point.trend === 'new' ? point.trend : 'flat'
}

export function trendText(point: PainPoint): string {
  switch (trendOf(point)) {
    case 'up':
      return `▲${point.change}`
    case 'down':
      return `▼${-point.change}`
    case 'new':
      return '新增'
    default:
      return '持平'
  }
}

export function painPointRows(points: readonly PainPoint[], limit = 10): PainPointRow[] {
  const shown = points.slice(0, limit)
  const most = Math.max(1, ...shown.map((p) => p.count))
  return shown.map((point) => ({
    rank: point.rank,
    theme: point.theme,
    label: point.label,
    count: point.count,
    trend: trendOf(point),
    trendText: trendText(point),
    community: point.communities[0]?.community ?? '',
    share: point.count / most,
  }))
}
