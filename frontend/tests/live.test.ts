import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ChangeMessage, SnapshotMessage } from '../src/api/types'
import {
  CredentialRefused,
  LiveClient,
  backoffDelay,
  liveUrl,
  type LiveStatus,
  type SocketLike,
} from '../src/live'
import { event, incident, removed, snapshot } from './fixtures'

class FakeSocket implements SocketLike {
  onopen: ((ev: Event) => void) | null = null
  onmessage: ((ev: MessageEvent) => void) | null = null
  onclose: ((ev: CloseEvent) => void) | null = null
  onerror: ((ev: Event) => void) | null = null
  closedWith: number | null = null
  constructor(readonly url: string) {}
  open(): void {
    this.onopen?.({} as Event)
  }
  send(message: object): void {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent)
  }
  serverClose(code: number): void {
    this.onclose?.({ code } as CloseEvent)
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000
  }
  get query(): URLSearchParams {
    return new URL(this.url).searchParams
  }
}

interface Harness {
  client: LiveClient
  sockets: FakeSocket[]
  received: (SnapshotMessage | ChangeMessage)[]
  statuses: LiveStatus[]
  ticket: ReturnType<typeof vi.fn>
  last: () => FakeSocket
}

function harness(fetchTicket?: () => Promise<string>): Harness {
  const sockets: FakeSocket[] = []
  const received: (SnapshotMessage | ChangeMessage)[] = []
  const statuses: LiveStatus[] = []
  let n = 0
  const ticket = vi.fn(fetchTicket ?? (async () => `t${++n}`))
  const client = new LiveClient({
    fetchTicket: ticket,
    onMessage: (m) => received.push(m),
    onStatus: (s) => statuses.push(s),
    baseUrl: 'ws://wall.test',
    createSocket: (url) => {
      const socket = new FakeSocket(url)
      sockets.push(socket)
      return socket
    },
  })
  return { client, sockets, received, statuses, ticket, last: () => sockets[sockets.length - 1]! }
}

/** Let the ticket promise settle and the socket be created. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0)
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('backoffDelay', () => {
  it('doubles from 1 s and stays at 15 s for ever', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 100, 5000].map((a) => backoffDelay(a))).toEqual([
      1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000, 15000,
    ])
  })
})

describe('liveUrl', () => {
  it('asks for a snapshot until it has an epoch, then resumes', () => {
    expect(liveUrl('ws://h', 'T', { seq: 0, epoch: null })).toBe('ws://h/ws/live?ticket=T')
    expect(liveUrl('ws://h', 'T', { seq: 42, epoch: 'e1' }, { grid: 'LF-01', source: undefined })).toBe(
      'ws://h/ws/live?ticket=T&since=42&epoch=e1&grid=LF-01',
    )
  })
})

describe('LiveClient', () => {
  it('connects with a ticket, takes the snapshot and events, drops duplicates', async () => {
    const h = harness()
    h.client.start()
    await settle()
    expect(h.last().query.get('ticket')).toBe('t1')
    expect(h.last().query.has('since')).toBe(false)
    h.last().open()
    expect(h.client.status).toBe('live')
    h.last().send(snapshot(10, [incident(1)]))
    h.last().send(event(11, 'created', incident(2)))
    h.last().send(event(11, 'created', incident(2)))
    h.last().send(event(9, 'created', incident(3)))
    h.last().send({ type: 'ping', seq: 20 })
    expect(h.received.map((m) => m.seq)).toEqual([10, 11])
    expect(h.client.seq).toBe(11) // a ping's head is not what we applied
    h.client.stop()
  })

  it('passes removals on in seq order and resumes after them', async () => {
    const h = harness()
    h.client.start()
    await settle()
    h.last().open()
    h.last().send(snapshot(10, [incident(1), incident(2)], undefined, 'epochA'))
    h.last().send(removed(11, 2))
    h.last().send(removed(11, 2))
    h.last().send(event(12, 'created', incident(3)))
    h.last().send(removed(12, 1)) // seen already: a removal never goes back
    expect(h.received.map((m) => [m.type, m.seq])).toEqual([
      ['snapshot', 10],
      ['removed', 11],
      ['event', 12],
    ])
    h.last().send(removed(13, 1))
    expect(h.client.seq).toBe(13)
    h.last().serverClose(1012)
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.last().query.get('since')).toBe('13')
    h.client.stop()
  })

  it('resumes with since and epoch after a close, with a new ticket', async () => {
    const h = harness()
    h.client.start()
    await settle()
    h.last().open()
    h.last().send(snapshot(10, [], undefined, 'epochA'))
    h.last().send(event(12, 'created', incident(2)))
    h.last().serverClose(4008)
    expect(h.client.status).toBe('reconnecting')
    expect(h.client.lastCloseCode).toBe(4008)
    await vi.advanceTimersByTimeAsync(999)
    expect(h.sockets).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sockets).toHaveLength(2)
    expect(h.last().query.get('ticket')).toBe('t2')
    expect(h.last().query.get('since')).toBe('12')
    expect(h.last().query.get('epoch')).toBe('epochA')
    h.client.stop()
  })

  it('reconnects after silence, before 45 s', async () => {
    const h = harness()
    h.client.start()
    await settle()
    h.last().open()
    h.last().send(snapshot(5, []))
    // pings keep it alive
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(15_000)
      h.last().send({ type: 'ping', seq: 5 })
    }
    expect(h.sockets).toHaveLength(1)
    expect(h.client.status).toBe('live')
    // then silence
    await vi.advanceTimersByTimeAsync(44_999)
    expect(h.client.status).toBe('reconnecting')
    expect(h.sockets[0]!.closedWith).not.toBeNull()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(h.sockets).toHaveLength(2)
    expect(h.last().query.get('since')).toBe('5')
    h.client.stop()
  })

  it('backs off 1, 2, 4, 8, 15, 15 … s and never gives up', async () => {
    const h = harness()
    h.client.start()
    await settle()
    const gaps: number[] = []
    for (let i = 0; i < 12; i++) {
      const before = h.sockets.length
      h.last().serverClose(1006)
      let waited = 0
      while (h.sockets.length === before) {
        await vi.advanceTimersByTimeAsync(250)
        waited += 250
      }
      gaps.push(waited)
    }
    expect(gaps).toEqual([1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000, 15000, 15000, 15000, 15000])
    h.client.stop()
  })

  it('starts the backoff again after a message arrives', async () => {
    const h = harness()
    h.client.start()
    await settle()
    h.last().serverClose(1006)
    await vi.advanceTimersByTimeAsync(1000)
    h.last().serverClose(1006)
    await vi.advanceTimersByTimeAsync(2000)
    h.last().open()
    h.last().send({ type: 'ping', seq: 0 })
    h.last().serverClose(1006)
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.sockets).toHaveLength(4)
    h.client.stop()
  })

  it('treats a silent socket that never opens like a lost one', async () => {
    const h = harness()
    h.client.start()
    await settle()
    await vi.advanceTimersByTimeAsync(45_000)
    expect(h.client.status).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(h.sockets).toHaveLength(2)
    h.client.stop()
  })

  it('shows unauthorized when the credential is refused and recovers when accepted', async () => {
    let refuse = true
    const h = harness(async () => {
      if (refuse) throw new CredentialRefused()
      return 'ok'
    })
    h.client.start()
    await settle()
    expect(h.client.status).toBe('unauthorized')
    expect(h.sockets).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(h.ticket).toHaveBeenCalledTimes(2)
    expect(h.client.status).toBe('unauthorized')
    refuse = false
    await vi.advanceTimersByTimeAsync(60_000)
    expect(h.sockets).toHaveLength(1)
    h.last().open()
    expect(h.client.status).toBe('live')
    h.client.stop()
  })

  it('asks for a new ticket after the handshake is refused (the browser reports 1006)', async () => {
    const h = harness()
    h.client.start()
    await settle()
    h.last().serverClose(1006)
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.ticket).toHaveBeenCalledTimes(2)
    expect(h.last().query.get('ticket')).toBe('t2')
    h.client.stop()
  })

  it('retries when the ticket request fails or hangs', async () => {
    let calls = 0
    const h = harness(() => {
      calls += 1
      if (calls === 1) return Promise.reject(new Error('503'))
      if (calls === 2) return new Promise<string>(() => {}) // never answers
      return Promise.resolve('t')
    })
    h.client.start()
    await settle()
    expect(h.client.status).toBe('reconnecting')
    await vi.advanceTimersByTimeAsync(1000) // 2nd attempt hangs
    await vi.advanceTimersByTimeAsync(10_000) // ticket timeout
    await vi.advanceTimersByTimeAsync(2000) // backoff, 3rd attempt
    expect(h.sockets).toHaveLength(1)
    h.client.stop()
  })

  it('can start from a known ledger position, without a snapshot', async () => {
    const h = harness()
    h.client.resumeFrom(4062, 'epochB')
    h.client.start()
    await settle()
    expect(h.last().query.get('since')).toBe('4062')
    expect(h.last().query.get('epoch')).toBe('epochB')
    h.last().send(event(4062, 'created', incident(1)))
    h.last().send(event(4063, 'created', incident(2)))
    expect(h.received.map((m) => m.seq)).toEqual([4063])
    expect(() => h.client.resumeFrom(1, 'x')).toThrow()
    h.client.stop()
  })

  it('stops cleanly: no timers, no socket', async () => {
    const h = harness()
    h.client.start()
    await settle()
    h.last().open()
    h.client.stop()
    expect(h.sockets[0]!.closedWith).toBe(1000)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(h.sockets).toHaveLength(1)
  })

  it('keeps a bounded number of timers over many reconnects', async () => {
    const h = harness()
    h.client.start()
    await settle()
    for (let i = 0; i < 200; i++) {
      h.last().open()
      h.last().send({ type: 'ping', seq: i })
      h.last().serverClose(1006)
      await vi.advanceTimersByTimeAsync(1000)
      expect(vi.getTimerCount()).toBeLessThanOrEqual(2)
    }
    expect(h.client.connects).toBe(201)
    h.client.stop()
  })
})
