// GCJ-02 <-> WGS-84 for the map data (the published district boundary is in GCJ-02,
// the register and the streets are in WGS-84). Plain JS so the build script runs on bare Node.

const A = 6378245.0 // Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses
const EE = 0.00669342162296594323

function outOfChina(lng, lat) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271
}

function transformLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3
  return r
}

function transformLng(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3
  return r
}

/** WGS-84 -> GCJ-02 (the forward, published algorithm). */
export function wgs84ToGcj02(lng, lat) {
  if (outOfChina(lng, lat)) return [lng, lat]
  let dLat = transformLat(lng - 105, lat - 35)
  let dLng = transformLng(lng - 105, lat - 35)
  const radLat = (lat / 180) * Math.PI
  let magic = Math.sin(radLat)
  magic = 1 - EE * magic * magic
  const sqrtMagic = Math.sqrt(magic)
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI)
  dLng = (dLng * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI)
  return [lng + dLng, lat + dLat]
}

/**
 * GCJ-02 -> WGS-84. The forward transform has no closed inverse; iterate the
 * fixed point until the forward image lands on the input (well under 1 cm).
 */
export function gcj02ToWgs84(lng, lat) {
  if (outOfChina(lng, lat)) return [lng, lat]
  let wLng = lng
  let wLat = lat
  for (let i = 0; i < 30; i++) {
    const [gLng, gLat] = wgs84ToGcj02(wLng, wLat)
    const dLng = gLng - lng
    const dLat = gLat - lat
    wLng -= dLng
    wLat -= dLat
    if (Math.abs(dLng) < 1e-10 && Math.abs(dLat) < 1e-10) break
  }
  return [wLng, wLat]
}

/** Convert every position of a GeoJSON geometry (any type) with fn([lng, lat]). */
export function mapGeometry(geometry, fn) {
  const walk = (coords) =>
    typeof coords[0] === 'number' ? roundPair(fn(coords[0], coords[1])) : coords.map(walk)
  if (geometry.type === 'GeometryCollection') {
    return { ...geometry, geometries: geometry.geometries.map((g) => mapGeometry(g, fn)) }
  }
  return { ...geometry, coordinates: walk(geometry.coordinates) }
}

export function roundPair([lng, lat]) {
  // 1e-6 degree is about 0.1 m: more digits only bloat the bundle.
  return [Math.round(lng * 1e6) / 1e6, Math.round(lat * 1e6) / 1e6]
}
