export function wgs84ToGcj02(lng: number, lat: number): [number, number]
export function gcj02ToWgs84(lng: number, lat: number): [number, number]
export function mapGeometry<G extends { type: string }>(geometry: G, fn: (lng: number, lat: number) => [number, number]): G
export function roundPair(pair: [number, number]): [number, number]
