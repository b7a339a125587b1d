"""Georeferenced glTF/GLB: write_glb with a CRS and offset and back, node transforms (TRS, matrix, hierarchy),
CESIUM_RTC (ECEF), asset.extras, photogrammetry sidecars (.prj + offset.xyz, metadata.xml), malformed files,
and the scene's mesh info / arrays placed in a frame."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import CRS, Transformer

from ai4geo_kernel import io, scene3d
from ai4geo_kernel.errors import MeshError
from ai4geo_kernel.scene3d._mesh import mesh_arrays, mesh_info

UTM = "EPSG:32631"
TRIANGLE = np.array([[0, 0, 0], [4, 0, 0], [0, 0, -2]], dtype=np.float32)  # glTF (Y-up): flat, 4 m x 2 m


def _gltf(path: Path, positions: np.ndarray = TRIANGLE, **document: Any) -> Path:
    """A ``.gltf`` with one triangle (embedded buffer) and the given top-level members (nodes, scenes...)."""
    blob = positions.astype("<f4").tobytes() + np.array([0, 1, 2], "<u4").tobytes()
    doc: dict[str, Any] = {
        "asset": {"version": "2.0"},
        "buffers": [
            {
                "byteLength": len(blob),
                "uri": "data:application/octet-stream;base64," + base64.b64encode(blob).decode(),
            }
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes},
            {"buffer": 0, "byteOffset": positions.nbytes, "byteLength": 12},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3"},
            {"bufferView": 1, "componentType": 5125, "count": 3, "type": "SCALAR"},
        ],
        "meshes": [{"name": "tri", "primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
    }
    for key, value in document.items():
        if key == "asset":
            doc["asset"].update(value)
        else:
            doc[key] = value
    path.write_text(json.dumps(doc))
    return path


def _gltf_with_normals(path: Path, normals: np.ndarray, centre: tuple[float, float, float]) -> Path:
    """The triangle of :func:`_gltf` with a NORMAL attribute, under a CESIUM_RTC centre."""
    blob = (
        TRIANGLE.astype("<f4").tobytes()
        + np.array([0, 1, 2], "<u4").tobytes()
        + normals.astype("<f4").tobytes()
    )
    uri = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
    document = {
        "asset": {"version": "2.0"},
        "extensions": {"CESIUM_RTC": {"center": list(centre)}},
        "buffers": [{"byteLength": len(blob), "uri": uri}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 36},
            {"buffer": 0, "byteOffset": 36, "byteLength": 12},
            {"buffer": 0, "byteOffset": 48, "byteLength": 36},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5125, "count": 3, "type": "SCALAR"},
            {"bufferView": 2, "componentType": 5126, "count": 3, "type": "VEC3"},
        ],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 2}, "indices": 1}]}],
    }
    path.write_text(json.dumps(document))
    return path


def _glb_json(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[20 : 20 + length])


def test_round_trip_with_crs_and_offset_keeps_millimetres(tmp_path: Path) -> None:
    # a 10 m house footprint at absolute UTM coordinates (float64): float32 alone would round to 0.5 m
    world = np.array(
        [[374100.123, 4828900.456, 150.5], [374110.123, 4828900.456, 150.5], [374100.123, 4828910.456, 160.5]]
    )
    mesh = io.TriangleMesh(world, np.array([[0, 1, 2]], dtype=np.uint32), name="house")
    io.write_glb(mesh, tmp_path / "m.glb", crs=UTM)
    extras = _glb_json(tmp_path / "m.glb")["asset"]["extras"]
    assert extras["crs"] == UTM and extras["offset"] == [374105.0, 4828905.0, 156.0]
    back = io.read_gltf(tmp_path / "m.glb")
    assert back.georeferenced and back.crs.equals(CRS(UTM)) and back.name == "house"
    assert back.offset == (374105.0, 4828905.0, 156.0)
    assert back.positions.dtype == np.float32 and np.abs(back.positions).max() < 10
    assert np.abs(back.world() - world).max() < 1e-3
    # an explicit offset is kept
    io.write_glb(mesh, tmp_path / "o.glb", crs=UTM, offset=(374000.0, 4828800.0, 0.0))
    again = io.read_gltf(tmp_path / "o.glb")
    assert again.offset == (374000.0, 4828800.0, 0.0) and np.abs(again.world() - world).max() < 1e-3


def test_stored_y_up_and_read_back_z_up(tmp_path: Path) -> None:
    io.write_glb(io.TriangleMesh(np.array([[1.0, 2.0, 3.0]] * 3), np.array([[0, 1, 2]])), tmp_path / "y.glb")
    accessor = _glb_json(tmp_path / "y.glb")["accessors"][0]
    assert accessor["min"] == [1.0, 3.0, -2.0]  # glTF stores (x, z, -y)
    assert np.allclose(io.read_gltf(tmp_path / "y.glb").positions, [1, 2, 3])


def test_node_trs_hierarchy_and_matrix_are_applied(tmp_path: Path) -> None:
    # parent: translation (10, 0, 0); child: 90 degrees about the glTF Y (up) axis, scale 2
    half = np.sqrt(0.5)
    nodes = [
        {"name": "root", "translation": [10, 0, 0], "children": [1]},
        {"name": "house", "mesh": 0, "rotation": [0, half, 0, half], "scale": [2, 2, 2]},
    ]
    mesh = io.read_gltf(_gltf(tmp_path / "trs.gltf", nodes=nodes, scenes=[{"nodes": [0]}], scene=0))
    # (4, 0, 0) scaled to (8, 0, 0), turned about +Y to (0, 0, -8), moved to (10, 0, -8), Z-up (10, 8, 0);
    # (0, 0, -2) to (0, 0, -4), turned to (-4, 0, 0), moved to (6, 0, 0)
    assert np.allclose(mesh.positions, [[10, 0, 0], [10, 8, 0], [6, 0, 0]], atol=1e-5)
    assert mesh.name == "house" and not mesh.georeferenced
    # the same placement as a column-major matrix
    matrix = np.eye(4)
    matrix[:3, 3] = [0, 5, 0]  # 5 m up (glTF Y)
    mesh = io.read_gltf(_gltf(tmp_path / "m.gltf", nodes=[{"mesh": 0, "matrix": matrix.T.ravel().tolist()}]))
    assert np.allclose(mesh.positions[:, 2], 5) and np.allclose(mesh.positions[1], [4, 0, 5])


def test_asset_extras_with_a_root_translation(tmp_path: Path) -> None:
    # the offset in asset.extras plus a root node carrying 100 m east, 20 m up (glTF x, y)
    nodes = [{"mesh": 0, "translation": [100, 20, 0]}]
    path = _gltf(
        tmp_path / "e.gltf", asset={"extras": {"crs": UTM, "offset": [374000, 4828800, 100]}}, nodes=nodes
    )
    mesh = io.read_gltf(path)
    assert mesh.crs.equals(CRS(UTM))
    assert np.allclose(mesh.world()[1], [374104, 4828800, 120])
    info = mesh_info(str(path))
    assert info["crs"].equals(CRS(UTM)) and info["bounds"] == pytest.approx(
        (374100, 4828800, 374104, 4828802)
    )
    assert (info["zmin"], info["zmax"], info["georeferenced"]) == (120, 120, True)


def test_cesium_rtc_centre_in_ecef(tmp_path: Path) -> None:
    lon, lat, h = 3.05, 43.6, 200.0
    centre = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(lon, lat, h)
    path = _gltf(
        tmp_path / "rtc.gltf",
        extensionsUsed=["CESIUM_RTC"],
        extensions={"CESIUM_RTC": {"center": list(centre)}},
    )
    mesh = io.read_gltf(path)
    assert mesh.crs.to_epsg() == 4978 and np.allclose(mesh.offset, centre)
    info = mesh_info(str(path))
    assert info["crs"].to_epsg() == 32631  # the UTM zone of the centre
    east, north = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    assert info["bounds"][0] == pytest.approx(east, abs=1) and info["bounds"][1] == pytest.approx(
        north, abs=5
    )
    frame = scene3d.SceneFrame(CRS(UTM), (round(east), round(north)))
    meta, arrays = mesh_arrays(str(path), frame)
    assert (
        meta["georeferenced"]
        and np.abs(arrays["positions"][0, :2] - [east - round(east), north - round(north)]).max() < 0.01
    )
    assert arrays["positions"][0, 2] == pytest.approx(h, abs=0.01)  # ellipsoidal height of the centre
    # a normal along the ECEF axes (the ellipsoid's up at the centre) comes out as the scene's up
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    up = [np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)]  # ECEF, Z-up order
    blob_normals = np.tile(np.float32([up[0], up[2], -up[1]]), (3, 1))  # stored Y-up
    with_normals = _gltf_with_normals(tmp_path / "rtc-n.gltf", blob_normals, centre)
    _, arrays = mesh_arrays(str(with_normals), frame)
    assert np.allclose(arrays["normals"], [0, 0, 1], atol=1e-3)


def test_prj_and_offset_sidecars(tmp_path: Path) -> None:
    local = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 4]], dtype=np.float32)
    io.write_glb(io.TriangleMesh(local, np.array([[0, 1, 2]])), tmp_path / "mesh.glb")
    assert not io.read_gltf(tmp_path / "mesh.glb").georeferenced
    (tmp_path / "mesh.prj").write_text(CRS(UTM).to_wkt("WKT1_ESRI"))
    assert io.read_gltf(tmp_path / "mesh.glb").crs.to_epsg() == 32631
    (tmp_path / "mesh_offset.xyz").write_text("374000 4828800 150\n")
    mesh = io.read_gltf(tmp_path / "mesh.glb")
    assert np.allclose(mesh.world()[2], [374000, 4828810, 154])


def test_contextcapture_metadata_xml(tmp_path: Path) -> None:
    io.write_glb(io.TriangleMesh(np.eye(3) * 10, np.array([[0, 1, 2]])), tmp_path / "tile.glb")
    (tmp_path / "metadata.xml").write_text(
        "<?xml version='1.0'?><ModelMetadata version='1'><SRS>EPSG:32631</SRS>"
        "<SRSOrigin>374000,4828800,100</SRSOrigin></ModelMetadata>"
    )
    mesh = io.read_gltf(tmp_path / "tile.glb")
    assert mesh.crs.to_epsg() == 32631 and np.allclose(mesh.world()[0], [374010, 4828800, 100])


def test_a_mesh_without_georeferencing_stays_in_its_frame(tmp_path: Path) -> None:
    io.write_glb(io.TriangleMesh(np.eye(3) * 5, np.array([[0, 1, 2]])), tmp_path / "plain.glb")
    info = mesh_info(str(tmp_path / "plain.glb"))
    assert info["crs"] is None and not info["georeferenced"] and info["bounds"] == (0, 0, 5, 5)
    meta, arrays = mesh_arrays(str(tmp_path / "plain.glb"), scene3d.SceneFrame(CRS(UTM), (374000, 4828800)))
    assert not meta["georeferenced"] and np.allclose(arrays["positions"], np.eye(3) * 5)


def test_mesh_placed_in_a_frame_of_another_crs(tmp_path: Path) -> None:
    world = np.array([[374100.0, 4828900.0, 150], [374110, 4828900, 150], [374100, 4828910, 160]])
    up = np.tile(np.float32([0, 0, 1]), (3, 1))
    io.write_glb(io.TriangleMesh(world, np.array([[0, 1, 2]]), normals=up), tmp_path / "m.glb", crs=UTM)
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(374100.0, 4828900.0)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform(lon, lat)
    frame = scene3d.SceneFrame(CRS("EPSG:2154"), (round(x), round(y)))
    _, arrays = mesh_arrays(str(tmp_path / "m.glb"), frame)
    assert np.allclose(arrays["positions"][0], [x - round(x), y - round(y), 150], atol=0.01)
    assert np.allclose(arrays["normals"], [0, 0, 1], atol=1e-3)  # up stays up from UTM to Lambert-93
    _, same = mesh_arrays(str(tmp_path / "m.glb"), scene3d.SceneFrame(CRS(UTM), (374000, 4828800)))
    assert np.allclose(same["normals"], up) and np.allclose(same["positions"][2], [100, 110, 160])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:16], "truncated"),
        (
            lambda data: data[:12] + struct.pack("<II", 40, 0x4E4F534A) + b"{not json" + b" " * 31,
            "not valid JSON",
        ),
        (lambda data: data[:-8], "past the end"),
        (lambda data: b"solid ascii stl", "neither GLB nor glTF"),
    ],
)
def test_malformed_glb_names_the_problem(tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    io.write_glb(io.TriangleMesh(np.eye(3), np.array([[0, 1, 2]])), tmp_path / "ok.glb")
    (tmp_path / "bad.glb").write_bytes(damage((tmp_path / "ok.glb").read_bytes()))
    with pytest.raises(MeshError, match=message):
        io.read_gltf(tmp_path / "bad.glb")


def test_malformed_gltf_documents(tmp_path: Path) -> None:
    bad_indices = _gltf(tmp_path / "i.gltf", TRIANGLE[:2])
    with pytest.raises(MeshError, match="indices beyond its 2 vertices"):
        io.read_gltf(bad_indices)
    draco = _gltf(tmp_path / "d.gltf", extensionsRequired=["KHR_draco_mesh_compression"])
    with pytest.raises(MeshError, match="KHR_draco_mesh_compression"):
        io.read_gltf(draco)
    cycle = _gltf(
        tmp_path / "c.gltf", nodes=[{"children": [1]}, {"mesh": 0, "children": [0]}], scenes=[{"nodes": [0]}]
    )
    with pytest.raises(MeshError, match="cycle"):
        io.read_gltf(cycle)
    bad_crs = _gltf(tmp_path / "k.gltf", asset={"extras": {"crs": "EPSG:nope", "offset": [0, 0, 0]}})
    with pytest.raises(MeshError, match="georeferencing"):
        io.read_gltf(bad_crs)
    missing = _gltf(tmp_path / "a.gltf", meshes=[{"primitives": [{"attributes": {"POSITION": 7}}]}])
    with pytest.raises(MeshError, match="accessor 7 does not exist"):
        io.read_gltf(missing)


def test_mesh_reads_are_shared_until_the_file_or_a_sidecar_changes(tmp_path: Path) -> None:
    from ai4geo_kernel.scene3d._mesh import _read

    io.write_glb(io.TriangleMesh(np.eye(3) * 5, np.array([[0, 1, 2]])), tmp_path / "s.glb")
    first = _read(str(tmp_path / "s.glb"))
    assert _read(str(tmp_path / "s.glb")) is first and not first.positions.flags.writeable
    assert mesh_info(str(tmp_path / "s.glb"))["crs"] is None
    (tmp_path / "s.prj").write_text(CRS(UTM).to_wkt())  # a sidecar added later is seen
    assert mesh_info(str(tmp_path / "s.glb"))["crs"].equals(CRS(UTM))
    io.write_glb(io.TriangleMesh(np.eye(3) * 7, np.array([[0, 1, 2]])), tmp_path / "s.glb")
    assert mesh_info(str(tmp_path / "s.glb"))["bounds"] == (0, 0, 7, 7)


def _wavy_grid(n: int) -> io.TriangleMesh:
    """An ``n`` x ``n`` vertex wavy surface, 300 m wide, red growing eastwards, with normals."""
    x, y = np.meshgrid(np.linspace(0, 300, n), np.linspace(0, 300, n))
    z = 10 * np.sin(x / 40) * np.cos(y / 55)
    positions = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, 1:].ravel(), i[1:, :-1].ravel()
    triangles = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])]).astype(np.uint32)
    colors = np.column_stack([x.ravel() / 300, np.full(n * n, 0.2), np.full(n * n, 0.4)]).astype(np.float32)
    normals = np.tile(np.float32([0, 0, 1]), (n * n, 1))
    return io.TriangleMesh(positions, triangles, colors=colors, normals=normals)


def test_mesh_levels_decimate_within_budgets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ai4geo_kernel.scene3d import _mesh

    monkeypatch.setattr(_mesh, "LEVEL_TRIANGLES", (500, 2000))  # small budgets: a 7,200-triangle grid
    grid = _wavy_grid(61)
    full = len(grid.indices)
    shifted = io.TriangleMesh(
        grid.positions + [374100, 4828900, 140], grid.indices, grid.colors, grid.normals
    )
    io.write_glb(shifted, tmp_path / "grid.glb", crs=UTM)
    info = mesh_info(str(tmp_path / "grid.glb"))
    assert (info["levels"], info["level_triangles"], info["triangles"]) == (3, [500, 2000, full], full)
    frame = scene3d.SceneFrame(CRS(UTM), (374000, 4828800))
    _, whole = mesh_arrays(str(tmp_path / "grid.glb"), frame)
    low, high = whole["positions"].min(axis=0), whole["positions"].max(axis=0)
    for level, cap in enumerate(info["level_triangles"]):
        meta, arrays = mesh_arrays(str(tmp_path / "grid.glb"), frame, level)
        count = len(arrays["indices"]) // 3 if arrays["indices"].ndim == 1 else len(arrays["indices"])
        assert meta["level"] == level and meta["triangles"] == count <= cap
        assert count > cap * 0.8  # decimated to its budget, not far below it
        positions = arrays["positions"].reshape(-1, 3)
        assert arrays["indices"].max() < len(positions)
        # the outline is kept (quadric decimation keeps the border), heights within the wave's range
        assert np.allclose(positions.min(axis=0), low, atol=3.0)
        assert np.allclose(positions.max(axis=0), high, atol=3.0)
        assert len(arrays["colors"].reshape(-1, 3)) == len(positions) == len(arrays["normals"].reshape(-1, 3))
        # colours of the nearest original vertex: red still follows east
        red = arrays["colors"].reshape(-1, 3)[:, 0]
        assert np.abs(red - (positions[:, 0] - 100) / 300).max() < 0.05
        # normals recomputed, unit and upward on this gentle surface
        normals = arrays["normals"].reshape(-1, 3)
        assert np.allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-3) and (normals[:, 2] > 0.5).all()
    assert np.array_equal(
        mesh_arrays(str(tmp_path / "grid.glb"), frame, 2)[1]["positions"], whole["positions"]
    )
    hits = _mesh._levels_version.cache_info().hits
    mesh_arrays(str(tmp_path / "grid.glb"), frame, 0)  # decimated once per file version
    assert _mesh._levels_version.cache_info().hits == hits + 1
    for bad in (3, -1):
        with pytest.raises(MeshError, match="outside the mesh's levels"):
            mesh_arrays(str(tmp_path / "grid.glb"), frame, bad)


def test_mesh_under_the_first_budget_has_one_level(tmp_path: Path) -> None:
    io.write_glb(_wavy_grid(11), tmp_path / "small.glb")
    info = mesh_info(str(tmp_path / "small.glb"))
    assert (info["levels"], info["level_triangles"]) == (1, [200])
    meta, _ = mesh_arrays(str(tmp_path / "small.glb"), None, 0)
    assert (meta["level"], meta["triangles"]) == (0, 200)
    with pytest.raises(MeshError):
        mesh_arrays(str(tmp_path / "small.glb"), None, 1)
