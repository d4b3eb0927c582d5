import { ApiError, api } from './api/client'
import { CredentialRefused } from './live'

/** A one-minute WebSocket ticket for whoever is calling (display key or person). */
export async function fetchLiveTicket(): Promise<string> {
  try {
    return (await api.wsTicket()).ticket
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      throw new CredentialRefused(error.message)
    }
    throw error
  }
}
