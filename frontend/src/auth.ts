// Who the browser is: a person's session token (sessionStorage, gone with the tab) or a wall
// kiosk's display key (localStorage, survives reboots). Credentials never go into a URL.
import type { Role, TokenResponse } from './api/types'

const SESSION_KEY = 'cb.session'
const WALL_KEY = 'cb.wallKey'

export interface Session {
  token: string
  role: Role
  username: string
  expiresAt: number // epoch ms
}

export function saveSession(response: TokenResponse, now: number = Date.now()): Session {
  const session: Session = {
    token: response.access_token,
    role: response.role,
    username: response.username,
    expiresAt: now + response.expires_in * 1000,
  }
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
  return session
}

export function loadSession(now: number = Date.now()): Session | null {
  const raw = sessionStorage.getItem(SESSION_KEY)
  if (!raw) return null
  try {
    const session = JSON.parse(raw) as Session
    if (typeof session.token !== 'string' || session.expiresAt <= now) return null
    return session
  } catch {
    return null
  }
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY)
}

/** Where a person lands after logging in. */
export function homeFor(role: Role): string {
  if (role === 'inspector') return '/inspector'
  if (role === 'operator' || role === 'admin') return '/console'
  if (role === 'display') return '/wall'
  return '/login'
}

/**
 * A kiosk is provisioned once with /wall#key=<display key>: keep the key, then take it out of
 * the address bar (and the history entry) so it is not left on screen or in bookmarks.
 */
export function captureWallKeyFromFragment(
  location: Location = window.location,
  history: History = window.history,
): boolean {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''))
  const key = fragment.get('key')
  if (!key) return false
  localStorage.setItem(WALL_KEY, key)
  history.replaceState(history.state, '', location.pathname + location.search)
  return true
}

export function wallKey(): string | null {
  return localStorage.getItem(WALL_KEY)
}

export function forgetWallKey(): void {
  localStorage.removeItem(WALL_KEY)
}

let credentialMode: 'person' | 'wall' = 'person'

/** The wall page sends the display key; every other page sends the person's token. */
export function useWallCredential(on: boolean): void {
  credentialMode = on ? 'wall' : 'person'
}

export function currentCredential(): string | null {
  if (credentialMode === 'wall') return wallKey() ?? loadSession()?.token ?? null
  return loadSession()?.token ?? null
}
