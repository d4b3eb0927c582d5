"""GCJ-02 ↔ WGS-84, distances, the China box and the blocking grid."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.matching.geo import (
    METRES_PER_DEGREE_LAT,
    bd09_to_gcj02,
    bd09_to_wgs84,
    cells_within,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    grid_cell,
    haversine_m,
    in_china,
    metres_per_degree_lng,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

china_lat = st.floats(min_value=18.0, max_value=53.0)
china_lng = st.floats(min_value=74.0, max_value=134.0)


def test_the_offset_in_shanghai_is_hundreds_of_metres() -> None:
    lng, lat = 121.455159, 31.297083
    gcj_lng, gcj_lat = wgs84_to_gcj02(lng, lat)
    assert 300 < haversine_m(lat, lng, gcj_lat, gcj_lng) < 700


def test_known_conversion() -> None:
    # The example in the README of the public coordtransform library (wgs84togcj02(116.404, 39.915)).
    gcj_lng, gcj_lat = wgs84_to_gcj02(116.404, 39.915)
    assert gcj_lng == pytest.approx(116.41024449916938, abs=1e-9)
    assert gcj_lat == pytest.approx(39.91640428150164, abs=1e-9)


@given(china_lat, china_lng)
def test_round_trip_wgs_gcj_wgs_is_within_a_centimetre(lat: float, lng: float) -> None:
    back_lng, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
    assert haversine_m(lat, lng, back_lat, back_lng) < 0.01


@given(china_lat, china_lng)
def test_round_trip_gcj_wgs_gcj_is_within_a_centimetre(lat: float, lng: float) -> None:
    again_lng, again_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lng, lat))
    assert haversine_m(lat, lng, again_lat, again_lng) < 0.01


def test_points_outside_china_are_not_shifted() -> None:
    assert wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)
    assert gcj02_to_wgs84(2.3522, 48.8566) == (2.3522, 48.8566)


def test_haversine() -> None:
    assert haversine_m(31.0, 121.0, 31.0, 121.0) == 0.0
    assert haversine_m(31.0, 121.0, 32.0, 121.0) == pytest.approx(111_195, rel=1e-3)
    # 0.001° of longitude at 31° N is about 95 m.
    assert haversine_m(31.0, 121.0, 31.0, 121.001) == pytest.approx(95.3, abs=0.5)


@given(china_lat, st.floats(min_value=-0.01, max_value=0.01), st.floats(min_value=-0.01, max_value=0.01))
def test_the_flat_earth_metres_are_the_great_circle_metres_nearby(lat: float, d_lat: float, d_lng: float) -> None:
    # The matcher, the grid and placement measure short distances with these two figures; within a
    # kilometre they agree with haversine to far better than a metre, because both use one sphere.
    lng = 121.4
    flat = math.hypot(d_lat * METRES_PER_DEGREE_LAT, d_lng * metres_per_degree_lng(lat + d_lat / 2))
    assert flat == pytest.approx(haversine_m(lat, lng, lat + d_lat, lng + d_lng), abs=0.05)


@given(china_lat, china_lng, china_lat, china_lng)
def test_haversine_is_symmetric(lat1: float, lng1: float, lat2: float, lng2: float) -> None:
    assert haversine_m(lat1, lng1, lat2, lng2) == pytest.approx(haversine_m(lat2, lng2, lat1, lng1))


def test_in_china() -> None:
    assert in_china(31.3, 121.45)
    assert in_china(45.75, 126.65)  # Harbin
    assert not in_china(0.0, 0.0)
    assert not in_china(48.86, 2.35)
    assert not in_china(121.45, 31.3)  # swapped
    assert not in_china(math.nan, 121.45)
    assert not in_china(31.3, math.inf)


@given(
    china_lat,
    china_lng,
    st.floats(min_value=0, max_value=2 * math.pi),
    st.floats(min_value=0, max_value=150),
)
def test_every_point_within_the_radius_is_in_the_cells_searched(
    lat: float, lng: float, bearing: float, distance: float
) -> None:
    other_lat = lat + distance * math.cos(bearing) / 111_195
    other_lng = lng + distance * math.sin(bearing) / (111_195 * math.cos(math.radians(lat)))
    if haversine_m(lat, lng, other_lat, other_lng) > 150:
        return
    assert grid_cell(other_lat, other_lng) in set(cells_within(lat, lng, 150))


def test_cells_are_about_a_hundred_metres() -> None:
    row, col = grid_cell(31.3, 121.45)
    assert grid_cell(31.3 + 0.0012, 121.45) != (row, col)  # ~133 m north is another cell
    assert len(cells_within(31.3, 121.45, 100)) <= 16


def test_known_baidu_conversions() -> None:
    # The examples in the README of the public coordtransform library.
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)
    assert bd09_to_gcj02(116.404, 39.915) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-9)


@given(china_lat, china_lng)
def test_round_trip_wgs_bd_wgs_is_within_a_metre(lat: float, lng: float) -> None:
    back_lng, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lng, lat))
    assert haversine_m(lat, lng, back_lat, back_lng) < 1.0
