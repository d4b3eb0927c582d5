// Shared look of the wall's charts: big type, muted axes, no chrome.
export const WALL_FONT = 'PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif'
export const AXIS_TEXT = { color: '#9fb6d6', fontSize: 16, fontFamily: WALL_FONT }
export const SPLIT_LINE = { lineStyle: { color: 'rgba(80, 130, 190, 0.18)' } }
export const AXIS_LINE = { lineStyle: { color: '#2a4a73' } }
