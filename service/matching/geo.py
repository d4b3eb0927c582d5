"""Coordinates: GCJ-02 ↔ WGS-84 conversion, distances, and the boxes that say "inside China".

GCJ-02 is the obfuscated datum that Chinese map services (and the city-management system)
use; it is WGS-84 shifted by a smooth, published formula of a few hundred metres. The forward
formula is public; its inverse has no closed form, so it is solved by fixed-point iteration.
"""

from __future__ import annotations

import math

_SEMI_MAJOR_AXIS = 6378245.0  # Krasovsky 1940, as the GCJ-02 formula uses
_ECCENTRICITY_SQ = 0.00669342162296594323

# Every distance in the service is measured on one sphere, the mean Earth radius (IUGG): the
# great-circle distance, the matcher's flat-earth distance, the blocking grid and placement's
# search box all use these, so a point 50 m away is 50 m away whichever of them asks. A degree of
# latitude is then 111,195 m everywhere; the ellipsoid's own figure runs from 110,574 m at the
# equator to 111,694 m at the poles (about 110,870 m at Shanghai's 31°), a 0.3 % difference that
# matters to no threshold here. (111,320 m, which one module used, is a degree of *longitude* at
# the equator.) A degree of longitude is this times the cosine of the latitude.
EARTH_RADIUS_M = 6371008.8
METRES_PER_DEGREE_LAT = 2 * math.pi * EARTH_RADIUS_M / 360

# Inside China, as agreed with the departments: a coordinate outside this box is a typo or (0, 0),
# and a record or register row carrying one is refused (service/formats/fields.py).
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)

# Where the GCJ-02 formula applies its offset: mainland China with a margin, as the published
# formula's implementations bound it (points outside are left as they are). It is wider than the
# agreed box above, which every stored coordinate already lies in; the matcher's coarse
# plausibility check (in_china) uses it too.
GCJ02_LAT_RANGE = (0.8293, 55.8271)
GCJ02_LNG_RANGE = (72.004, 137.8347)


def in_china(lat: float, lng: float) -> bool:
    """True when the point lies in the bounding box of China (coarse: a plausibility check, not a border)."""
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return False
    return GCJ02_LAT_RANGE[0] <= lat <= GCJ02_LAT_RANGE[1] and GCJ02_LNG_RANGE[0] <= lng <= GCJ02_LNG_RANGE[1]


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj02_offset(lng: float, lat: float) -> tuple[float, float]:
    """The (Δlng, Δlat) in degrees that GCJ-02 adds to a WGS-84 point."""
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _ECCENTRICITY_SQ * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_SEMI_MAJOR_AXIS * (1 - _ECCENTRICITY_SQ)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_SEMI_MAJOR_AXIS / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lng, d_lat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 by the public formula; points outside China are returned unchanged."""
    if not in_china(lat, lng):
        return lng, lat
    d_lng, d_lat = _gcj02_offset(lng, lat)
    return lng + d_lng, lat + d_lat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84 by fixed-point iteration of the forward formula (error far below 1 m)."""
    if not in_china(lat, lng):
        return lng, lat
    wgs_lng, wgs_lat = lng, lat
    # The offset changes by well under 1 % per metre moved, so each round gains roughly two digits.
    for _ in range(10):
        gcj_lng, gcj_lat = wgs84_to_gcj02(wgs_lng, wgs_lat)
        err_lng, err_lat = gcj_lng - lng, gcj_lat - lat
        wgs_lng -= err_lng
        wgs_lat -= err_lat
        if abs(err_lng) < 1e-9 and abs(err_lat) < 1e-9:
            break
    return wgs_lng, wgs_lat


# BD-09 (Baidu) is GCJ-02 shifted again by Baidu's own public formula.
_BD_X_PI = math.pi * 3000.0 / 180.0


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """BD-09 → GCJ-02 by Baidu's published inverse (error well below 1 m)."""
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 by Baidu's published formula."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _BD_X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _BD_X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """BD-09 → WGS-84 (through GCJ-02); points outside China keep only Baidu's shift undone."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def wgs84_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    """WGS-84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def metres_per_degree_lng(lat: float) -> float:
    """The length of a degree of longitude at ``lat``, on the same sphere."""
    return METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))


# A metre grid for blocking: rows are bands of latitude, and each row's columns are sized with the
# cosine of the row's own centre latitude, so a cell is close to square anywhere in China.
def grid_cell(lat: float, lng: float, cell_m: float = 100.0) -> tuple[int, int]:
    """The (row, column) of the ~``cell_m``-metre grid cell holding a point."""
    row = math.floor(lat * METRES_PER_DEGREE_LAT / cell_m)
    return row, _column(row, lng, cell_m)


def _column(row: int, lng: float, cell_m: float) -> int:
    row_centre_lat = (row + 0.5) * cell_m / METRES_PER_DEGREE_LAT
    return math.floor(lng * metres_per_degree_lng(row_centre_lat) / cell_m)


def cells_within(lat: float, lng: float, radius_m: float, cell_m: float = 100.0) -> list[tuple[int, int]]:
    """Every grid cell that may hold a point within ``radius_m`` of (lat, lng)."""
    lat_m = lat * METRES_PER_DEGREE_LAT
    first_row = math.floor((lat_m - radius_m) / cell_m)
    last_row = math.floor((lat_m + radius_m) / cell_m)
    cells: list[tuple[int, int]] = []
    for row in range(first_row, last_row + 1):
        row_centre_lat = (row + 0.5) * cell_m / METRES_PER_DEGREE_LAT
        x = lng * metres_per_degree_lng(row_centre_lat)
        # One metre of slack covers the cosine changing across the row.
        first_col = math.floor((x - radius_m - 1.0) / cell_m)
        last_col = math.floor((x + radius_m + 1.0) / cell_m)
        cells.extend((row, col) for col in range(first_col, last_col + 1))
    return cells
