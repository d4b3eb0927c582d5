/// <reference types="node" />
// src/api/schema.ts is generated from openapi.json (`npm run types`); a schema changed without
// regenerating fails here. That openapi.json is what the service serves is checked on the Python
// side (tests/test_openapi_dump.py).
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const frontend = fileURLToPath(new URL('..', import.meta.url))

describe('the generated API types', () => {
  it('are those openapi-typescript makes from openapi.json', () => {
    const check = () =>
      execFileSync(
        'node_modules/.bin/openapi-typescript',
        ['openapi.json', '-o', 'src/api/schema.ts', '--enum-values', '--check'],
        { cwd: frontend, stdio: 'pipe' },
      )
    expect(check, 'src/api/schema.ts is stale: run npm run types').not.toThrow()
  }, 30_000)
})
