// One-off conversion of the district boundary from GCJ-02 (as published) to WGS-84, so the
// wall draws it in the same system as the register's points and the streets.
// Usage: npm run geo   (reads geo-src/, writes src/assets/geo/; the output is committed)
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gcj02ToWgs84, mapGeometry, roundPair } from './gcj02.mjs'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))
const source = here('../geo-src/jingan_310106_boundary_gcj02.geojson')
const target = here('../src/assets/geo/jingan_310106_boundary_wgs84.geojson')

const collection = JSON.parse(readFileSync(source, 'utf8'))
const converted = {
  type: 'FeatureCollection',
  features: collection.features.map((feature) => {
    const { center, centroid, ...properties } = feature.properties ?? {}
    return {
      type: 'Feature',
      // center/centroid are GCJ-02 too; convert them rather than leave a mixed file.
      properties: {
        ...properties,
        ...(center ? { center: roundPair(gcj02ToWgs84(center[0], center[1])) } : {}),
        ...(centroid ? { centroid: roundPair(gcj02ToWgs84(centroid[0], centroid[1])) } : {}),
        crs: 'WGS-84',
      },
      geometry: mapGeometry(feature.geometry, gcj02ToWgs84),
    }
  }),
}
writeFileSync(target, JSON.stringify(converted) + '\n')
console.log(`wrote ${target}`)
