# ruff: noqa: E501 - the CityGML fixture keeps its long XML lines
"""3D readers and writers: CityJSON round trip, CityGML read, GLB round trip, LAS/LAZ/PLY chunks."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Polygon, box

from ai4geo_kernel import io
from ai4geo_kernel.errors import MissingCRSError, VectorError


def _buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": [7, 8],
            "height": [10.0, 25.5],
            "ground_elevation": [140.0, 150.0],
            "roof_type": ["flat", "gable"],
            "geometry": [
                box(0, 0, 10, 20),
                Polygon([(30, 0), (50, 0), (50, 10), (30, 10)], [[(35, 2), (40, 2), (40, 5)]]),
            ],
        },
        crs="EPSG:32631",
    )


def test_cityjson_round_trip_lod0_lod1_lod2(tmp_path: Path) -> None:
    path = tmp_path / "b.city.json"
    io.write_cityjson(_buildings(), path, ground="ground_elevation", lods=("0", "1", "2"), identifier="id")
    back = io.read_cityjson(path)
    assert back.crs.to_epsg() == 32631
    assert list(back["id"]) == ["7", "8"]
    assert back["lod"].tolist() == ["2", "2"]
    assert np.allclose(back["base_z"], [140.0, 150.0]) and np.allclose(back["top_z"], [150.0, 175.5])
    assert back.geometry.iloc[0].equals_exact(box(0, 0, 10, 20), 1e-6) or back.geometry.iloc[
        0
    ].area == pytest.approx(200)
    assert back.geometry.iloc[1].area == pytest.approx(200 - 7.5)  # the courtyard stays a hole
    assert back["roof"].iloc[1].geoms[0].exterior.coords[0][2] == pytest.approx(175.5)
    assert back["roof_type"].tolist() == ["flat", "gable"]


def test_cityjson_refuses_missing_crs_and_height(tmp_path: Path) -> None:
    frame = _buildings()
    with pytest.raises(MissingCRSError):
        io.write_cityjson(frame.set_crs(None, allow_override=True), tmp_path / "x.json")
    with pytest.raises(VectorError, match="no height column"):
        io.write_cityjson(frame, tmp_path / "x.json", height="storeys")
    (tmp_path / "not.json").write_text('{"type": "FeatureCollection"}')
    with pytest.raises(VectorError, match="not CityJSON"):
        io.read_cityjson(tmp_path / "not.json")


CITYGML = """<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0"
 xmlns:gml="http://www.opengis.net/gml" xmlns:gen="http://www.opengis.net/citygml/generics/2.0">
 <core:cityObjectMember><bldg:Building gml:id="B1">
  <gen:stringAttribute name="usage"><gen:value>school</gen:value></gen:stringAttribute>
  <bldg:measuredHeight uom="m">12</bldg:measuredHeight>
  <bldg:boundedBy><bldg:RoofSurface><bldg:lod2MultiSurface><gml:MultiSurface srsName="EPSG:32631"><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">0 0 12 10 0 12 10 10 15 0 10 15 0 0 12</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:RoofSurface></bldg:boundedBy>
  <bldg:boundedBy><bldg:GroundSurface><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>
   <gml:Polygon><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">0 0 0 0 10 0 10 10 0 10 0 0 0 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
  </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:GroundSurface></bldg:boundedBy>
 </bldg:Building></core:cityObjectMember>
</core:CityModel>"""


def test_citygml_lod2_roof_ground_and_attributes(tmp_path: Path) -> None:
    path = tmp_path / "b.gml"
    path.write_text(CITYGML)
    frame = io.read_citygml(path)
    row = frame.iloc[0]
    assert frame.crs.to_epsg() == 32631
    assert (row["id"], row["lod"], row["usage"], row["measuredHeight"]) == ("B1", "2", "school", 12.0)
    assert (row["base_z"], row["top_z"]) == (0.0, 15.0)
    assert row.geometry.area == pytest.approx(100)
    assert len(row["roof"].geoms) == 1


def test_glb_round_trip(tmp_path: Path) -> None:
    positions = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 5]], dtype=np.float32)
    mesh = io.TriangleMesh(
        positions, np.array([[0, 1, 2]], dtype=np.uint32), colors=np.array([[1, 0, 0]] * 3, dtype=np.float32)
    )
    io.write_glb(mesh, tmp_path / "m.glb")
    assert (tmp_path / "m.glb").read_bytes()[:4] == b"glTF"
    back = io.read_gltf(tmp_path / "m.glb")
    assert np.allclose(back.positions, positions) and back.indices.tolist() == [[0, 1, 2]]
    assert np.allclose(back.colors[:, 0], 1)


@pytest.mark.parametrize("suffix", [".las", ".laz", ".ply"])
def test_point_clouds_stream_in_chunks(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(0)
    xyz = np.column_stack(
        [rng.uniform(374000, 375000, 2500), rng.uniform(4828000, 4829000, 2500), rng.uniform(100, 200, 2500)]
    )
    classes = rng.integers(1, 7, 2500).astype(np.uint8)
    path = tmp_path / f"p{suffix}"
    if suffix == ".ply":
        io.write_ply(path, xyz, classification=classes)
    else:
        io.write_las(path, xyz, crs="EPSG:32631", classification=classes)
    info = io.point_cloud_info(path)
    assert info.count == 2500 and info.has_classification
    assert (info.crs.to_epsg() if info.crs else None) == (None if suffix == ".ply" else 32631)
    chunks = list(io.iter_points(path, chunk_size=1000))
    assert [c.start for c in chunks] == [0, 1000, 2000]
    assert np.allclose(np.vstack([c.xyz for c in chunks]), xyz, atol=0.006)
    assert np.array_equal(np.concatenate([c.classification for c in chunks]), classes)
