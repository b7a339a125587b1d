# ruff: noqa: E501 - the CityGML fixture keeps its long XML lines
"""Buildings for the 3D viewer: LOD2 gabled / hipped roofs written and read back (CityJSON, CityGML 2.0),
the flat arrays and the A4G3 payload (LOD choice, roof z, footprints), the per-file cache."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from ai4geo_kernel import io, scene3d
from ai4geo_kernel.io.citygml import read_citygml_surfaces
from ai4geo_kernel.io.cityjson import read_cityjson_surfaces
from ai4geo_kernel.io.citymodel import FOOTPRINT, GROUND, ROOF, WALL
from ai4geo_kernel.scene3d import _buildings

FRAME = scene3d.SceneFrame.parse("EPSG:32631", "374000,4828000")


def _houses() -> gpd.GeoDataFrame:
    """A gabled house (20 x 10 m, ridge along x), a hipped one (12 x 12 m), a flat one and an L-shaped
    gabled one (not a rectangle: written flat)."""
    x, y = 374000, 4828000
    return gpd.GeoDataFrame(
        {
            "id": ["gable", "hip", "flat", "ell"],
            "height": [10.0, 12.0, 8.0, 9.0],
            "eaves_height": [6.0, 7.0, 8.0, 5.0],
            "roof_type": ["gable", "hip", "flat", "gable"],
            "ground_elevation": [100.0, 101.0, 102.0, 103.0],
        },
        geometry=[
            box(x, y, x + 20, y + 10),
            box(x + 30, y, x + 42, y + 12),
            box(x + 50, y, x + 60, y + 10),
            box(x + 70, y, x + 90, y + 20).difference(box(x + 80, y + 10, x + 90, y + 20)),
        ],
        crs="EPSG:32631",
    )


def _write(path: Path, lods: tuple[str, ...] = ("0", "1", "2")) -> Path:
    io.write_cityjson(
        _houses(),
        path,
        ground="ground_elevation",
        lods=lods,
        identifier="id",
        roof_type="roof_type",
        eaves_height="eaves_height",
    )
    return path


def _rings(arrays: dict[str, np.ndarray], polygon: int) -> list[np.ndarray]:
    first, last = arrays["polygon_offsets"][polygon], arrays["polygon_offsets"][polygon + 1]
    offsets = arrays["ring_offsets"]
    return [arrays["positions"][offsets[r] : offsets[r + 1]] for r in range(first, last)]


def test_cityjson_lod2_gabled_and_hipped_roofs_read_back(tmp_path: Path) -> None:
    surfaces = read_cityjson_surfaces(_write(tmp_path / "houses.city.json"))
    table = surfaces.table.set_index("id")
    assert table["lod"].tolist() == ["2"] * 4 and table["lods"].tolist() == ["0,1,2"] * 4
    assert table.loc["gable", ["base_z", "top_z"]].tolist() == [100.0, 110.0]
    index = {name: i for i, name in enumerate(surfaces.table["id"])}

    def kinds(name: str) -> np.ndarray:
        return surfaces.surface_type[surfaces.surface_building == index[name]]

    def roof_normals(name: str) -> np.ndarray:
        mine = surfaces.surface_building == index[name]
        return surfaces.surface_normal[mine & (surfaces.surface_type == ROOF)]

    # gable: 2 slopes, 4 walls (two of them pentagons up to the ridge), 1 ground, 1 LOD0 footprint
    assert sorted(np.bincount(kinds("gable"), minlength=4)) == sorted([1, 1, 4, 2])
    slopes = roof_normals("gable")
    assert len(slopes) == 2 and np.all((slopes[:, 2] > 0.5) & (slopes[:, 2] < 0.95))  # pitched, facing up
    assert np.allclose(
        np.sort(slopes[:, 1]), [-np.sin(np.arctan(4 / 5)), np.sin(np.arctan(4 / 5))], atol=1e-6
    )
    # hip: 4 slopes (two trapezoids, two triangles), 4 walls at the eaves
    assert np.count_nonzero(kinds("hip") == ROOF) == 4 and np.all(roof_normals("hip")[:, 2] < 0.95)
    # flat and the L-shaped footprint: one horizontal roof
    for name in ("flat", "ell"):
        assert np.allclose(roof_normals(name), [[0, 0, 1]])
    gable_walls = np.flatnonzero(
        (surfaces.surface_building == index["gable"]) & (surfaces.surface_type == WALL)
    )
    sizes = [np.diff(surfaces.ring_offsets)[surfaces.surface_offsets[s]] for s in gable_walls]
    assert sorted(sizes) == [4, 4, 5, 5]
    # the GeoDataFrame of the same file: footprint from LOD0, roof slopes in 3D
    frame = io.read_cityjson(tmp_path / "houses.city.json").set_index("id")
    assert frame.geometry["gable"].area == pytest.approx(200) and frame.geometry["ell"].area == pytest.approx(
        300
    )
    ridge = [z for polygon in frame["roof"]["gable"].geoms for *_, z in polygon.exterior.coords]
    assert min(ridge) == pytest.approx(106.0) and max(ridge) == pytest.approx(110.0)


def test_payload_draws_the_highest_lod(tmp_path: Path) -> None:
    path = _write(tmp_path / "houses.city.json")
    meta, arrays = scene3d.buildings_payload(read_cityjson_surfaces(path), FRAME)
    assert meta["count"] == 4 and meta["ids"] == ["gable", "hip", "flat", "ell"]
    assert meta["lods"] == ["0", "1", "2"] and meta["drawn"] == {"2": 4}
    assert meta["attributes"]["roof_type"] == ["gable", "hip", "flat", "gable"]
    assert "roof_type" in meta["categorical"] and "height" in meta["numeric"]
    assert arrays["positions"].dtype == np.float32 and arrays["positions"].shape[1] == 3
    assert arrays["ring_offsets"][-1] == len(arrays["positions"])
    assert arrays["polygon_offsets"][-1] == len(arrays["ring_offsets"]) - 1
    assert len(arrays["polygon_type"]) == len(arrays["polygon_building"]) == len(arrays["polygon_normal"])
    assert arrays["lod"].tolist() == [2, 2, 2, 2]
    types = arrays["polygon_type"]
    assert GROUND not in types  # hidden under the building: not sent
    gable = arrays["polygon_building"] == 0
    roofs = [_rings(arrays, p)[0] for p in np.flatnonzero(gable & (types == ROOF))]
    assert len(roofs) == 2
    for (
        ring
    ) in roofs:  # each slope runs from the eaves (106 m) up to the ridge (110 m), x / y minus the origin
        assert sorted(set(np.round(ring[:, 2], 3))) == [106.0, 110.0]
        assert ring[:, 0].min() == pytest.approx(0) and ring[:, 0].max() == pytest.approx(20)
        assert set(np.round(ring[ring[:, 2] > 109, 1], 3)) == {5.0}  # the ridge at mid-width
    footprint = _rings(arrays, np.flatnonzero(gable & (types == FOOTPRINT))[0])[0]
    assert np.allclose(footprint[:, 2], 100.0)  # footprints at the base

    # LOD0 + LOD1 only: every building is an extruded footprint, no surface sent
    meta, arrays = scene3d.buildings_payload(
        read_cityjson_surfaces(_write(tmp_path / "blocks.city.json", ("0", "1"))), FRAME
    )
    assert meta["drawn"] == {"1": 4} and set(arrays["polygon_type"]) == {FOOTPRINT}
    assert np.allclose(arrays["top"], [110, 113, 110, 112]) and np.allclose(
        arrays["base"], [100, 101, 102, 103]
    )
    ell = _rings(arrays, np.flatnonzero(arrays["polygon_building"] == 3)[0])[0]
    assert len(ell) == 6  # the L-shaped outline, without its closing vertex


CITYGML_LOD2 = """<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0"
 xmlns:gml="http://www.opengis.net/gml" xmlns:gen="http://www.opengis.net/citygml/generics/2.0"
 xmlns:xlink="http://www.w3.org/1999/xlink">
 <gml:boundedBy><gml:Envelope srsName="urn:ogc:def:crs:EPSG::32631" srsDimension="3">
  <gml:lowerCorner>374000 4828000 100</gml:lowerCorner><gml:upperCorner>374030 4828010 110</gml:upperCorner>
 </gml:Envelope></gml:boundedBy>
 <core:cityObjectMember><bldg:Building gml:id="house">
  <bldg:roofType>1030</bldg:roofType>
  <bldg:measuredHeight uom="m">10</bldg:measuredHeight>
  <bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
   <gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374000 4828000 108 374020 4828000 108 374020 4828010 108 374000 4828010 108 374000 4828000 108</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
  </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>
  <bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
   <gml:surfaceMember xlink:href="#roof-south"/><gml:surfaceMember xlink:href="#roof-north"/>
  </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>
  <bldg:boundedBy><bldg:RoofSurface gml:id="rs1"><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>
   <gml:Polygon gml:id="roof-south"><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374000 4828000 106 374020 4828000 106 374020 4828005 110 374000 4828005 110 374000 4828000 106</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:RoofSurface></bldg:boundedBy>
  <bldg:boundedBy><bldg:RoofSurface gml:id="rs2"><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>
   <gml:Polygon gml:id="roof-north"><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374020 4828010 106 374000 4828010 106 374000 4828005 110 374020 4828005 110 374020 4828010 106</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:RoofSurface></bldg:boundedBy>
  <bldg:boundedBy><bldg:WallSurface gml:id="ws1"><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374020 4828000 100 374020 4828010 100 374020 4828010 106 374020 4828005 110 374020 4828000 106 374020 4828000 100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374000 4828010 100 374000 4828000 100 374000 4828000 106 374000 4828005 110 374000 4828010 106 374000 4828010 100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374000 4828000 100 374020 4828000 100 374020 4828000 106 374000 4828000 106 374000 4828000 100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374020 4828010 100 374000 4828010 100 374000 4828010 106 374020 4828010 106 374020 4828010 100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:WallSurface></bldg:boundedBy>
  <bldg:boundedBy><bldg:GroundSurface gml:id="gs1"><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374000 4828000 100 374000 4828010 100 374020 4828010 100 374020 4828000 100 374000 4828000 100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:GroundSurface></bldg:boundedBy>
 </bldg:Building></core:cityObjectMember>
 <core:cityObjectMember><bldg:Building gml:id="block">
  <gen:stringAttribute name="usage"><gen:value>garage</gen:value></gen:stringAttribute>
  <bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>
   <gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374025 4828000 100 374025 4828005 100 374030 4828005 100 374030 4828000 100 374025 4828000 100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
   <gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">374025 4828000 104 374030 4828000 104 374030 4828005 104 374025 4828005 104 374025 4828000 104</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>
  </gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>
 </bldg:Building></core:cityObjectMember>
</core:CityModel>"""


def test_citygml_lod2_boundary_surfaces(tmp_path: Path) -> None:
    path = tmp_path / "houses.gml"
    path.write_text(CITYGML_LOD2)
    surfaces = read_citygml_surfaces(path)
    assert surfaces.crs.to_epsg() == 32631
    table = surfaces.table.set_index("id")
    assert table.loc["house", "lod"] == "2" and table.loc["house", "lods"] == "1,2"
    assert table.loc["block", "lod"] == "1" and table.loc["block", "usage"] == "garage"
    assert table.loc["house", ["base_z", "top_z"]].tolist() == [100.0, 110.0]
    house = surfaces.surface_building == 0
    counts = np.bincount(surfaces.surface_type[house], minlength=4)
    assert (counts[ROOF], counts[WALL], counts[GROUND]) == (2, 4, 1)  # the LOD1 solid is not drawn too
    meta, arrays = scene3d.buildings_payload(surfaces, FRAME)
    assert meta["drawn"] == {"1": 1, "2": 1} and arrays["lod"].tolist() == [2, 1]
    roofs = np.flatnonzero((arrays["polygon_building"] == 0) & (arrays["polygon_type"] == ROOF))
    heights = np.concatenate([_rings(arrays, p)[0][:, 2] for p in roofs])
    assert heights.min() == pytest.approx(106) and heights.max() == pytest.approx(110)
    gable_ends = [
        _rings(arrays, p)[0]
        for p in np.flatnonzero((arrays["polygon_building"] == 0) & (arrays["polygon_type"] == WALL))
    ]
    assert max(ring[:, 2].max() for ring in gable_ends) == pytest.approx(110)  # walls up to the ridge
    block = np.flatnonzero(arrays["polygon_building"] == 1)
    assert arrays["polygon_type"][block].tolist() == [FOOTPRINT]  # LOD1: the footprint, extruded
    assert np.allclose(_rings(arrays, block[0])[0][:, 2], 100.0) and arrays["top"][1] == 104.0
    frame = io.read_citygml(path).set_index("id")
    assert frame.geometry["house"].area == pytest.approx(200) and len(frame["roof"]["house"].geoms) == 2


def test_footprints_with_heights_and_roofs_from_a_geodataframe(tmp_path: Path) -> None:
    frame = _houses()
    meta, arrays = scene3d.buildings_payload(frame, FRAME)  # footprints with a height column: LOD1 blocks
    assert meta["drawn"] == {"1": 4} and np.allclose(arrays["top"], [110, 113, 110, 112])  # ground + height
    assert set(arrays["polygon_type"]) == {FOOTPRINT}
    owner = np.repeat(
        np.repeat(arrays["polygon_building"], np.diff(arrays["polygon_offsets"])),
        np.diff(arrays["ring_offsets"]),
    )
    assert np.allclose(arrays["positions"][:, 2], arrays["base"][owner])  # each footprint at its ground
    # a read_cityjson table (LOD2 with 3D roofs): roof slopes, and walls from the roof edges down to the base
    lod2 = io.read_cityjson(_write(tmp_path / "houses.city.json"))
    meta, arrays = scene3d.buildings_payload(lod2, FRAME)
    assert meta["drawn"] == {"2": 4}
    gable = arrays["polygon_building"] == 0
    assert np.count_nonzero(gable & (arrays["polygon_type"] == ROOF)) == 2
    walls = [_rings(arrays, p)[0] for p in np.flatnonzero(gable & (arrays["polygon_type"] == WALL))]
    assert len(walls) == 8 and all(np.isclose(ring[:, 2].min(), 100.0) for ring in walls)


def test_read_buildings_parses_a_file_once_per_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "houses.city.json")
    first = scene3d.read_buildings(path)
    assert scene3d.read_buildings(str(path)) is first  # same file, same version: the cached arrays
    assert not first.vertices.flags.writeable
    _write(path, ("0", "1"))
    os.utime(path, ns=(first_ns := path.stat().st_mtime_ns + 10**9, first_ns))
    second = scene3d.read_buildings(path)
    assert second is not first and second.table["lod"].tolist() == ["1"] * 4
    monkeypatch.setattr(_buildings, "BUILDINGS_CACHE_SIZE", 2)
    for i in range(3):
        _write(tmp_path / f"other{i}.city.json", ("0",))
        scene3d.read_buildings(tmp_path / f"other{i}.city.json")
    assert len(_buildings._cache) == 2
