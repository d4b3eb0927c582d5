// The offline map: the street's roads and the district boundary, both WGS-84 (the boundary was
// converted from the published GCJ-02 file by scripts/convert-boundary.mjs), no tiles.
import boundaryText from './assets/geo/jingan_310106_boundary_wgs84.geojson?raw'
import streetsText from './assets/geo/linfen_streets.geojson?raw'

export type LngLat = [number, number]

interface LineFeature {
  properties: { name?: string } | null
  geometry: { type: string; coordinates: unknown }
}

export interface Road {
  name: string
  coords: LngLat[]
}

export const BOUNDARY_MAP_NAME = 'jingan-310106-wgs84'

export function boundaryGeoJson(): object {
  return JSON.parse(boundaryText) as object
}

/** Every LineString / MultiLineString of the streets file as a road polyline. */
export function roads(): Road[] {
  const collection = JSON.parse(streetsText) as { features: LineFeature[] }
  const out: Road[] = []
  for (const feature of collection.features) {
    const name = feature.properties?.name ?? ''
    const { type, coordinates } = feature.geometry
    if (type === 'LineString') out.push({ name, coords: coordinates as LngLat[] })
    else if (type === 'MultiLineString') {
      for (const line of coordinates as LngLat[][]) out.push({ name, coords: line })
    }
  }
  return out
}

/**
 * The area the wall shows: the streets with a margin (room for the road names beside them),
 * as [[west, north], [east, south]].
 */
export function viewBounds(roadList: Road[], lngMargin = 0.004, latMargin = 0.0018): [LngLat, LngLat] {
  let west = Infinity
  let east = -Infinity
  let south = Infinity
  let north = -Infinity
  for (const road of roadList) {
    for (const [lng, lat] of road.coords) {
      west = Math.min(west, lng)
      east = Math.max(east, lng)
      south = Math.min(south, lat)
      north = Math.max(north, lat)
    }
  }
  if (!Number.isFinite(west)) return [[121.44, 31.31], [121.47, 31.29]]
  return [
    [west - lngMargin, north + latMargin],
    [east + lngMargin, south - latMargin],
  ]
}

export interface RoadLabel {
  name: string
  at: LngLat
  position: 'left' | 'bottom'
}

/**
 * Where a road's name goes: beyond its west end for an east-west road, below its south end for
 * a north-south one — outside the grid, where markers do not cover it.
 */
export function roadLabel(road: Road): RoadLabel {
  const first = road.coords[0] ?? [0, 0]
  const last = road.coords[road.coords.length - 1] ?? first
  const dx = Math.abs(last[0] - first[0]) * Math.cos((first[1] * Math.PI) / 180)
  const dy = Math.abs(last[1] - first[1])
  if (dx >= dy) return { name: road.name, at: first[0] <= last[0] ? first : last, position: 'left' }
  return { name: road.name, at: first[1] <= last[1] ? first : last, position: 'bottom' }
}

/** Marker size by how many reports an incident has gathered. */
export function markerSize(reportCount: number): number {
  return Math.min(36, 12 + 5 * Math.sqrt(Math.max(0, reportCount - 1)))
}
