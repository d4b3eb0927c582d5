// The incident lifecycle as the screens offer it (docs/workflow.md §1). The service decides; these only
// choose which buttons to show. A 422 from the service lists what is really allowed.
import type { IncidentStatus } from './api/types'

export const TRANSITIONS: Record<IncidentStatus, IncidentStatus[]> = {
  new: ['dispatched', 'rejected', 'merged'],
  dispatched: ['in_progress', 'rejected', 'merged'],
  in_progress: ['resolved', 'merged'],
  resolved: ['closed', 'in_progress', 'merged'],
  closed: [],
  rejected: [],
  merged: [],
}

/** What an inspector on the street can do with an incident assigned to them. */
export function inspectorActions(status: IncidentStatus): IncidentStatus[] {
  // Start work once dispatched, report it done; verifying and reopening are the operators' call.
  if (status === 'dispatched') return ['in_progress']
  if (status === 'in_progress') return ['resolved']
  return []
}

export const ACTION_LABELS: Partial<Record<IncidentStatus, string>> = {
  dispatched: '派遣',
  in_progress: '开始处置',
  resolved: '处置完成',
  closed: '结案',
  rejected: '驳回',
}

/** The longest note the service takes, with a status change or on its own (docs/workflow.md §2). */
export const NOTE_MAX_LENGTH = 4000

export function canReject(status: IncidentStatus): boolean {
  return TRANSITIONS[status].includes('rejected')
}

export function canClose(status: IncidentStatus): boolean {
  return TRANSITIONS[status].includes('closed')
}

export function isOpenStatus(status: IncidentStatus): boolean {
  return TRANSITIONS[status].length > 0
}
