import { beforeEach, describe, expect, it, vi } from 'vitest'
import { sourceColor, sourceKeys, sourceName } from '../src/labels'
import { loadSources, setSources } from '../src/sources'

const answers = vi.hoisted(() => ({ lists: [] as unknown[][], asked: 0 }))
vi.mock('../src/api/client', () => ({
  api: {
    sources: () => {
      answers.asked += 1
      return Promise.resolve(answers.lists.shift() ?? [])
    },
  },
}))

// What GET /api/v1/sources answers: built-in adapters and departments added by a definition alike.
const SOURCES = [
  { source: 'police', name: '公安', label: '公安', colour: '#3d7eff', defined_by: 'shipped', version: null },
  { source: 'fire', name: '消防救援', label: '消防', colour: '#d6336c', defined_by: 'shipped', version: null },
  { source: 'hotline', name: '12345热线', label: '热线', colour: '#845ef7', defined_by: 'stored', version: 2 },
]

describe('departments come from the service, none is written in the frontend', () => {
  beforeEach(() => setSources([]))

  it('shows a department by its key until the list arrives', () => {
    expect(sourceName('fire')).toBe('fire')
    expect(sourceName('fire', true)).toBe('fire')
    expect(sourceColor('fire')).toBe('#9aa5b1')
    expect(sourceKeys()).toEqual([])
    expect(sourceName(null)).toBe('—')
  })

  it('uses the name, short label and colour of each definition, in the order given', () => {
    setSources(SOURCES)
    expect(sourceName('fire')).toBe('消防救援')
    expect(sourceName('fire', true)).toBe('消防')
    expect(sourceColor('hotline')).toBe('#845ef7')
    expect(sourceName('hotline', true)).toBe('热线')
    expect(sourceKeys()).toEqual(['police', 'fire', 'hotline'])
    expect(sourceName('unknown')).toBe('unknown')
  })
})

describe('a screen left open learns of a department installed since it loaded', () => {
  it('fetches the list again when it meets a department it does not know, at most once a while', async () => {
    answers.lists = [SOURCES.slice(0, 2), SOURCES]
    answers.asked = 0
    await loadSources()
    expect(sourceKeys()).toEqual(['police', 'fire'])
    expect(sourceName('hotline')).toBe('hotline') // a report from a department installed after the page loaded
    expect(sourceColor('hotline')).toBe('#9aa5b1')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(answers.asked).toBe(2)
    expect(sourceName('hotline')).toBe('12345热线')
    expect(sourceColor('hotline')).toBe('#845ef7')
    sourceName('nowhere')
    sourceName('nowhere')
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(answers.asked).toBe(3) // a key no list names is asked about once, not on every draw
  })
})
