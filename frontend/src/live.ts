// The live stream client. A wall runs unattended for weeks, so it never gives up: every
// silence or close leads to a new ticket and a resume from the last seq it applied.
import type { ChangeMessage, Epoch, LiveMessage, SnapshotMessage } from './api/types'

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'unauthorized'

/** The credential was refused outright (401/403 on the ticket): show 未授权, keep retrying slowly. */
export class CredentialRefused extends Error {
  constructor(message = '未授权') {
    super(message)
    this.name = 'CredentialRefused'
  }
}

/** The subset of the browser WebSocket the client uses (a fake one in tests). */
export interface SocketLike {
  onopen: ((ev: Event) => void) | null
  onmessage: ((ev: MessageEvent) => void) | null
  onclose: ((ev: CloseEvent) => void) | null
  onerror: ((ev: Event) => void) | null
  close(code?: number, reason?: string): void
}

export type SocketFactory = (url: string) => SocketLike

export interface LiveClientOptions {
  /** POST /api/v1/auth/ws-ticket; throws CredentialRefused when the credential is refused. */
  fetchTicket: () => Promise<string>
  /** Receives each snapshot, and each event or removal not seen before, in seq order. */
  onMessage: (message: SnapshotMessage | ChangeMessage) => void
  onStatus?: (status: LiveStatus) => void
  /** ws(s)://host — defaults to the page's own host. */
  baseUrl?: string
  filters?: Record<string, string | undefined>
  createSocket?: SocketFactory
  now?: () => number
  /**
   * The contract reconnects after 45 s without an event or ping (the server pings after 15 s
   * of quiet); a few seconds of margin keep timer slack from pushing the indicator past 45 s.
   */
  watchdogMs?: number
  backoffInitialMs?: number
  backoffMaxMs?: number
  unauthorizedRetryMs?: number
  /** A ticket request that hangs must not stall the client for ever. */
  ticketTimeoutMs?: number
}

/**
 * How the server ends a stream (service/live/protocol.py): 4008 too slow (resume from seq), 1012
 * restarting or the ledger replaced, 1013 try again later, 1011 internal error. A refused ticket is
 * refused at the handshake (HTTP 403, or the error's status): the socket never opens, and the
 * browser reports only 1006. Every close leads to the same thing: a new ticket, then resume.
 */
export const CLOSE_TOO_SLOW = 4008
const CLOSE_WATCHDOG = 4000

/** 1 s, 2 s, 4 s, 8 s, then 15 s for ever. */
export function backoffDelay(attempt: number, initialMs = 1000, maxMs = 15_000): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30))
}

/** The stream URL: a fresh ticket each time, and since/epoch once a snapshot has been seen. */
export function liveUrl(
  baseUrl: string,
  ticket: string,
  position: { seq: number; epoch: Epoch | null },
  filters: Record<string, string | undefined> = {},
): string {
  const query = new URLSearchParams({ ticket })
  if (position.epoch !== null) {
    query.set('since', String(position.seq))
    query.set('epoch', String(position.epoch))
  }
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value)
  return `${baseUrl}/ws/live?${query.toString()}`
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ticket request timed out')), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

function defaultBaseUrl(): string {
  const { protocol, host } = window.location
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}`
}

export class LiveClient {
  private readonly options: Required<
    Pick<
      LiveClientOptions,
      'watchdogMs' | 'backoffInitialMs' | 'backoffMaxMs' | 'unauthorizedRetryMs' | 'ticketTimeoutMs'
    >
  > &
    LiveClientOptions
  private socket: SocketLike | null = null
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private watchdogTimer: ReturnType<typeof setTimeout> | null = null
  private attempt = 0
  private running = false
  // Each connect() gets a number; a late answer to an older attempt is ignored.
  private generation = 0
  private _status: LiveStatus = 'connecting'
  private _seq = 0
  private _epoch: Epoch | null = null
  private _lastMessageAt: number | null = null
  private _connects = 0
  private _lastCloseCode: number | null = null

  constructor(options: LiveClientOptions) {
    this.options = {
      watchdogMs: 42_000,
      backoffInitialMs: 1_000,
      backoffMaxMs: 15_000,
      unauthorizedRetryMs: 60_000,
      ticketTimeoutMs: 10_000,
      ...options,
    }
  }

  get status(): LiveStatus {
    return this._status
  }
  get seq(): number {
    return this._seq
  }
  get epoch(): Epoch | null {
    return this._epoch
  }
  /** When the last message (snapshot, event or ping) arrived: the data is current as of then. */
  get lastMessageAt(): number | null {
    return this._lastMessageAt
  }
  /** How many sockets have been opened, for diagnostics and tests. */
  get connects(): number {
    return this._connects
  }

  /** The code of the last close (4008 too slow, 1012 restart, 1006 for a refused handshake …). */
  get lastCloseCode(): number | null {
    return this._lastCloseCode
  }

  /**
   * Start from a known point of the ledger instead of a snapshot (a screen that loads its own
   * data, like the console, only needs what happens next). Only before start().
   */
  resumeFrom(seq: number, epoch: Epoch): void {
    if (this.running) throw new Error('resumeFrom() must come before start()')
    this._seq = seq
    this._epoch = epoch
  }

  start(): void {
    if (this.running) return
    this.running = true
    void this.connect()
  }

  stop(): void {
    this.running = false
    this.generation += 1
    this.clearTimers()
    this.dropSocket(1000, 'stopped')
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private setStatus(status: LiveStatus): void {
    if (this._status === status) return
    this._status = status
    this.options.onStatus?.(status)
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation
    let ticket: string
    try {
      ticket = await withTimeout(this.options.fetchTicket(), this.options.ticketTimeoutMs)
    } catch (error) {
      if (generation !== this.generation || !this.running) return
      if (error instanceof CredentialRefused) {
        this.setStatus('unauthorized')
        this.schedule(this.options.unauthorizedRetryMs)
      } else {
        this.setStatus(this._status === 'unauthorized' ? 'unauthorized' : 'reconnecting')
        this.scheduleReconnect()
      }
      return
    }
    if (generation !== this.generation || !this.running) return

    const url = liveUrl(
      this.options.baseUrl ?? defaultBaseUrl(),
      ticket,
      { seq: this._seq, epoch: this._epoch },
      this.options.filters,
    )
    const socket = (this.options.createSocket ?? ((u: string) => new WebSocket(u)))(url)
    this.socket = socket
    this._connects += 1
    this.armWatchdog() // also covers a socket that never opens
    socket.onopen = () => {
      if (this.socket === socket) this.setStatus('live')
    }
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data)
    }
    socket.onerror = () => {
      // The close event that follows decides what to do.
    }
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = null
      // 4008 (too slow), 1012/1013 (restart, try again), 1008 (the key was revoked) and a refused
      // handshake (1006) all mean: new ticket, resume from seq. Whether the credential itself is
      // refused shows on the next ticket request.
      this._lastCloseCode = event.code
      this.lost()
    }
  }

  private receive(data: unknown): void {
    let message: LiveMessage
    try {
      message = JSON.parse(String(data)) as LiveMessage
    } catch {
      return // not ours to interpret; the watchdog still stands
    }
    this._lastMessageAt = this.now()
    this.attempt = 0
    this.armWatchdog()
    this.setStatus('live')
    if (message.type === 'snapshot') {
      this._seq = message.seq
      this._epoch = message.epoch
      this.options.onMessage(message)
    } else if (message.type === 'event' || message.type === 'removed') {
      if (message.seq <= this._seq) return // seen already
      this._seq = message.seq
      this.options.onMessage(message)
    }
    // 'ping' only proves the stream is alive; its seq is the head, not what we have applied.
  }

  /** The socket closed or went silent: say so at once, then resume with backoff. */
  private lost(): void {
    this.clearTimers()
    if (!this.running) return
    if (this._status !== 'unauthorized') this.setStatus('reconnecting')
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt, this.options.backoffInitialMs, this.options.backoffMaxMs)
    this.attempt += 1
    this.schedule(delay)
  }

  private schedule(delayMs: number): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      if (this.running) void this.connect()
    }, delayMs)
  }

  private armWatchdog(): void {
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer)
    this.watchdogTimer = setTimeout(() => {
      this.watchdogTimer = null
      this.dropSocket(CLOSE_WATCHDOG, 'silent')
      this.lost()
    }, this.options.watchdogMs)
  }

  private dropSocket(code: number, reason: string): void {
    const socket = this.socket
    this.socket = null
    if (!socket) return
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null
    try {
      socket.close(code, reason)
    } catch {
      // already closed
    }
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    if (this.watchdogTimer !== null) clearTimeout(this.watchdogTimer)
    this.reconnectTimer = this.watchdogTimer = null
  }
}
