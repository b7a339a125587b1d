"""Tests of the demo area's scene synthesis, grid, sun and shadows (in memory, no files)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from ai4geo_kernel.demo._acquisitions import VHR_DATETIME, s1_datetimes, s2_datetimes, sun_position
from ai4geo_kernel.demo._grid import CENTER_LAT, CENTER_LON, area_grid
from ai4geo_kernel.demo._landcover import BUILDING, LANDCOVER_CLASSES, TREE, WATER
from ai4geo_kernel.demo._render import cast_shadows
from ai4geo_kernel.demo._scene import (
    ROOF_TYPES,
    SURFACE_ASPHALT,
    SURFACE_BRIDGE,
    SURFACE_SIDEWALK,
    SURFACE_WATER,
    Scene,
    synthesize_scene,
)
from ai4geo_kernel.errors import ConfigurationError


@pytest.fixture(scope="module")
def scene() -> Scene:
    return synthesize_scene(area_grid(0.5), seed=3)


def test_area_grid_is_centred_on_toulouse_and_aligned_on_10m() -> None:
    grid = area_grid(1.0)
    assert grid.side == 1280
    assert grid.west % 10 == 0 and grid.north % 10 == 0
    west, south, east, north = grid.bbox_wgs84
    assert west < CENTER_LON < east and south < CENTER_LAT < north
    assert grid.size == 1280 and grid.size_10m == 128
    assert area_grid(4.0).side == 5120
    assert area_grid(0.25).side == 320
    for bad in (0.0, -1.0, 100.0, float("nan")):
        with pytest.raises(ConfigurationError):
            area_grid(bad)


def test_dates_cover_2024() -> None:
    s2, s1 = s2_datetimes(), s1_datetimes()
    assert len(s2) >= 12 and len(s1) >= 16
    for series in (s2, s1):
        assert all(d.year == 2024 for d in series)
        assert (series[-1] - series[0]).days > 330
        gaps = {(b - a).days for a, b in zip(series, series[1:], strict=False)}
        assert max(gaps) <= 28


def test_sun_position() -> None:
    azimuth, elevation = sun_position(datetime(2024, 6, 21, 12, 0, tzinfo=UTC))
    assert elevation == pytest.approx(90 - CENTER_LAT + 23.44, abs=0.3)
    assert 175 < azimuth < 190
    azimuth, elevation = sun_position(VHR_DATETIME)
    assert 140 < azimuth < 170 and 40 < elevation < 60


def test_cast_shadows_fall_away_from_the_sun() -> None:
    dsm = np.full((60, 60), 150.0, dtype=np.float32)
    dsm[25:35, 25:35] = 160.0  # a 10 m block
    shadow = cast_shadows(dsm, azimuth=180.0, elevation=45.0)  # sun in the south: shadow to the north
    assert shadow[16:25, 27:33].all()  # 10 m long north of the block
    assert not shadow[35:60].any()  # nothing south
    assert not shadow[:13].any()
    assert not shadow[25:35, 25:35].any()  # roofs are lit


def test_scene_is_deterministic() -> None:
    grid = area_grid(0.25)
    a, b, c = synthesize_scene(grid, 7), synthesize_scene(grid, 7), synthesize_scene(grid, 8)
    for name in ("dtm", "dsm", "landcover", "building_ids"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.dsm, c.dsm)


def test_scene_has_every_class_and_elevations_in_range(scene: Scene) -> None:
    present = set(np.unique(scene.landcover).tolist())
    assert present == {c.value for c in LANDCOVER_CLASSES}
    land = (scene.landcover != WATER) & (scene.surface != SURFACE_BRIDGE)  # the DTM under bridges is water
    assert 140.0 <= float(scene.dtm[land].min()) and float(scene.dtm.max()) <= 185.0
    assert float(scene.dtm[land].max() - scene.dtm[land].min()) > 5.0  # relief
    assert (scene.dsm >= scene.dtm).all()
    assert np.all(scene.dtm[scene.landcover == WATER] == scene.water_level)


def test_buildings_stand_on_open_ground_with_varied_shapes(scene: Scene) -> None:
    on_building = scene.building_ids > 0
    under = scene.surface[on_building]
    assert not np.isin(under, (SURFACE_ASPHALT, SURFACE_SIDEWALK, SURFACE_BRIDGE, SURFACE_WATER)).any()
    assert (scene.landcover[on_building] == BUILDING).all()
    assert set(np.unique(scene.building_ids[on_building]).tolist()) == {b.id for b in scene.buildings}
    assert {b.roof_type for b in scene.buildings} == set(ROOF_TYPES)
    heights = np.array([b.height for b in scene.buildings])
    assert 3.0 <= heights.min() and heights.max() <= 48.0
    assert any(len(b.footprint.interiors) for b in scene.buildings) or len(scene.buildings) < 40
    vertex_counts = {len(b.footprint.exterior.coords) for b in scene.buildings}
    assert max(vertex_counts) > 5  # L-shapes, not only rectangles
    for building in scene.buildings:
        mask = scene.building_ids == building.id
        roof = scene.dsm[mask] - building.ground_elevation
        assert float(roof.max()) == pytest.approx(building.height, abs=0.02)
        assert float(roof.min()) >= building.eaves_height - 0.02
        if building.roof_type == "flat":
            assert float(roof.max() - roof.min()) < 1e-3
        elif mask.sum() > 60:
            assert float(roof.max() - roof.min()) > 1.0  # a pitched roof shows in the DSM


def test_trees(scene: Scene) -> None:
    assert len(scene.trees) > 50
    radii = np.array([t.radius for t in scene.trees])
    heights = np.array([t.height for t in scene.trees])
    assert 3.0 <= radii.min() and radii.max() <= 10.0
    assert 5.0 <= heights.min() and heights.max() <= 20.0
    crowns = scene.landcover == TREE
    assert (scene.dsm[crowns] - scene.dtm[crowns] > 1.0).mean() > 0.95


def test_sites_are_reserved_on_whole_10m_cells(scene: Scene) -> None:
    kinds = [s.kind for s in scene.sites]
    assert {"construction", "field", "car_park", "mooring"} <= set(kinds)
    for site in scene.sites:
        rows, cols = site.slices()
        assert not (scene.building_ids[rows, cols] > 0).any()
        if site.kind == "mooring":
            assert (scene.landcover[rows, cols] == WATER).all()
        else:
            assert not (scene.landcover[rows, cols] == TREE).any()
