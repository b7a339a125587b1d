"""The 3D viewer's mesh endpoints in a real Jupyter server (pytest-jupyter): a georeferenced GLB's info in the
scene's metric CRS and its vertices placed in the requested frame, a plain GLB in its own frame, a sidecar
``.prj``, a mesh above the first triangle budget by level of detail (``level``, 400 outside its levels), and
the refusals (no frame 400, malformed 400 naming the problem, outside the root 403, no token 403)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
from pyproj import CRS
from tornado.httpclient import HTTPClientError

from ai4geo_kernel import io, scene3d
from tests.conftest import ESCAPING_PATHS

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.integration
FRAME = {"crs": "EPSG:32631", "origin": "374000,4828800"}
HOUSE = np.array(
    [[374100.25, 4828900.5, 150.0], [374110.25, 4828900.5, 150.0], [374100.25, 4828910.5, 162.0]]
)


@pytest.fixture
def jp_server_config():  # type: ignore[no-untyped-def]
    return {"ServerApp": {"jpserver_extensions": {"ai4geo_viewer3d": True}}}


@pytest.fixture
def meshes(jp_root_dir: Path) -> Path:
    data = jp_root_dir / "data"
    data.mkdir()
    triangle = np.array([[0, 1, 2]], dtype=np.uint32)
    io.write_glb(io.TriangleMesh(HOUSE, triangle, name="house"), data / "house.glb", crs="EPSG:32631")
    io.write_glb(io.TriangleMesh(np.eye(3, dtype=np.float32) * 5, triangle), data / "plain.glb")
    io.write_glb(io.TriangleMesh(np.eye(3, dtype=np.float32) * 5, triangle), data / "survey.glb")
    (data / "survey.prj").write_text(CRS("EPSG:32631").to_wkt("WKT1_ESRI"))
    (data / "survey_offset.xyz").write_text("374200 4828700 140")
    (data / "broken.glb").write_bytes((data / "house.glb").read_bytes()[:-8])
    return jp_root_dir


async def _get(jp_fetch, route: str, **params):  # type: ignore[no-untyped-def]
    return await jp_fetch("ai4geo", "scene3d", route, params={k: str(v) for k, v in params.items()})


async def test_georeferenced_mesh_info_and_arrays_in_the_frame(jp_fetch, meshes) -> None:
    info = json.loads((await _get(jp_fetch, "info", path="data/house.glb")).body)
    assert (info["kind"], info["crs"], info["georeferenced"], info["triangles"]) == (
        "mesh",
        "EPSG:32631",
        True,
        1,
    )
    assert info["bounds"] == pytest.approx([374100.25, 4828900.5, 374110.25, 4828910.5], abs=1e-3)
    assert (info["zmin"], info["zmax"], info["mesh_name"]) == (150, 162, "house")
    meta, arrays = scene3d.unpack_arrays((await _get(jp_fetch, "mesh", path="data/house.glb", **FRAME)).body)
    assert meta["georeferenced"] and meta["name"] == "house" and meta["triangles"] == 1
    assert np.allclose(arrays["positions"], HOUSE - [374000, 4828800, 0], atol=1e-3)
    # another origin moves the mesh by the difference
    other = scene3d.unpack_arrays(
        (await _get(jp_fetch, "mesh", path="data/house.glb", crs="EPSG:32631", origin="374100,4828900")).body
    )[1]
    assert np.allclose(other["positions"][0], [0.25, 0.5, 150], atol=1e-3)


async def test_plain_mesh_in_its_own_frame_and_prj_sidecar(jp_fetch, meshes) -> None:
    info = json.loads((await _get(jp_fetch, "info", path="data/plain.glb")).body)
    assert info["crs"] is None and not info["georeferenced"] and info["bounds"] == [0, 0, 5, 5]
    meta, arrays = scene3d.unpack_arrays((await _get(jp_fetch, "mesh", path="data/plain.glb", **FRAME)).body)
    assert not meta["georeferenced"] and np.allclose(arrays["positions"], np.eye(3) * 5)
    survey = json.loads((await _get(jp_fetch, "info", path="data/survey.glb")).body)
    assert survey["crs"] == "EPSG:32631" and survey["bounds"] == pytest.approx(
        [374200, 4828700, 374205, 4828705]
    )
    _, arrays = scene3d.unpack_arrays((await _get(jp_fetch, "mesh", path="data/survey.glb", **FRAME)).body)
    assert np.allclose(arrays["positions"][2], [200, -100, 145])


async def test_large_mesh_by_level_of_detail(jp_fetch, jp_root_dir: Path, meshes) -> None:
    n = 226  # 101,250 triangles: just above the first budget (100,000), so two levels
    x, y = np.meshgrid(np.linspace(0, 500, n), np.linspace(0, 500, n))
    positions = np.column_stack([x.ravel() + 374000, y.ravel() + 4828800, 5 * np.sin(x.ravel() / 30) + 140])
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, 1:].ravel(), i[1:, :-1].ravel()
    triangles = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])]).astype(np.uint32)
    io.write_glb(io.TriangleMesh(positions, triangles), jp_root_dir / "big.glb", crs="EPSG:32631")
    info = json.loads((await _get(jp_fetch, "info", path="big.glb")).body)
    assert (info["levels"], info["level_triangles"]) == (2, [scene3d.LEVEL_TRIANGLES[0], len(triangles)])
    coarse, coarse_arrays = scene3d.unpack_arrays(
        (await _get(jp_fetch, "mesh", path="big.glb", level=0, **FRAME)).body
    )
    assert coarse["level"] == 0 and coarse["triangles"] <= scene3d.LEVEL_TRIANGLES[0]
    assert coarse_arrays["indices"].size == 3 * coarse["triangles"]
    assert coarse_arrays["positions"].reshape(-1, 3)[:, :2].min(axis=0) == pytest.approx([0, 0], abs=1)
    full, _ = scene3d.unpack_arrays((await _get(jp_fetch, "mesh", path="big.glb", level=1, **FRAME)).body)
    assert (full["level"], full["triangles"]) == (1, len(triangles))
    whole, _ = scene3d.unpack_arrays((await _get(jp_fetch, "mesh", path="big.glb", **FRAME)).body)
    assert (whole["level"], whole["triangles"]) == (1, len(triangles))  # no level: the full mesh
    for bad in ("2", "-1", "x", "1.5"):
        with pytest.raises(HTTPClientError) as refused:
            await _get(jp_fetch, "mesh", path="big.glb", level=bad, **FRAME)
        assert refused.value.code == 400, bad
    small = json.loads((await _get(jp_fetch, "info", path="data/house.glb")).body)
    assert (small["levels"], small["level_triangles"]) == (1, [1])  # under the first budget: one level


async def test_mesh_refusals(jp_fetch, meshes) -> None:
    with pytest.raises(HTTPClientError) as no_frame:
        await _get(jp_fetch, "mesh", path="data/house.glb")
    assert no_frame.value.code == 400
    with pytest.raises(HTTPClientError) as broken:
        await _get(jp_fetch, "mesh", path="data/broken.glb", **FRAME)
    assert broken.value.code == 400 and "past the end" in str(broken.value.response.reason)
    with pytest.raises(HTTPClientError) as missing:
        await _get(jp_fetch, "info", path="data/nothing.glb")
    assert missing.value.code == 404


@pytest.mark.parametrize("route", ["info", "mesh"])
@pytest.mark.parametrize("path", [*ESCAPING_PATHS, "../outside.glb"])
async def test_mesh_paths_outside_the_root_are_refused(jp_fetch, meshes, route, path) -> None:
    outside = meshes.parent / "outside.glb"
    outside.write_bytes((meshes / "data" / "house.glb").read_bytes())
    (meshes.parent / "secret.tif").write_bytes(b"secret")
    if not (meshes / "link_out.tif").exists():
        (meshes / "link_out.tif").symlink_to(meshes.parent / "secret.tif")
    with pytest.raises(HTTPClientError) as refused:
        await _get(jp_fetch, route, path=path, **FRAME)
    assert refused.value.code == 403


async def test_mesh_without_the_token_is_refused(jp_fetch, jp_http_port, jp_base_url, meshes) -> None:
    from tornado.httpclient import AsyncHTTPClient

    for route in ("info", "mesh"):
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ai4geo/scene3d/{route}?" + urlencode(
            {"path": "data/house.glb", **FRAME}
        )
        with pytest.raises(HTTPClientError) as refused:
            await AsyncHTTPClient().fetch(url, headers={"Authorization": ""})
        assert refused.value.code == 403, route
