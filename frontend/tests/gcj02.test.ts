import { describe, expect, it } from 'vitest'
import { gcj02ToWgs84, wgs84ToGcj02 } from '../scripts/gcj02.mjs'
import boundary from '../src/assets/geo/jingan_310106_boundary_wgs84.geojson?raw'

describe('GCJ-02 conversion', () => {
  it('inverts the forward transform to well under a metre', () => {
    for (const [lng, lat] of [
      [121.4442, 31.3012],
      [121.4638, 31.2931],
      [116.397, 39.909],
    ] as const) {
      const [gLng, gLat] = wgs84ToGcj02(lng, lat)
      // Shanghai's offset is a few hundred metres
      expect(Math.abs(gLng - lng) + Math.abs(gLat - lat)).toBeGreaterThan(0.002)
      const [wLng, wLat] = gcj02ToWgs84(gLng, gLat)
      expect(Math.abs(wLng - lng)).toBeLessThan(1e-7)
      expect(Math.abs(wLat - lat)).toBeLessThan(1e-7)
    }
  })

  it('leaves points outside China alone', () => {
    expect(gcj02ToWgs84(2.35, 48.85)).toEqual([2.35, 48.85])
  })

  it('ships the boundary already in WGS-84', () => {
    const collection = JSON.parse(boundary)
    expect(collection.features[0].properties.crs).toBe('WGS-84')
    const first = collection.features[0].geometry.coordinates[0][0][0]
    // the published GCJ-02 file starts at 121.482989, 31.24192
    const [gLng, gLat] = wgs84ToGcj02(first[0], first[1])
    expect(Math.abs(gLng - 121.482989)).toBeLessThan(2e-6)
    expect(Math.abs(gLat - 31.24192)).toBeLessThan(2e-6)
  })
})
