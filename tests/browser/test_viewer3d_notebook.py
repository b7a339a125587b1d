"""``viz.show3d`` and ``viz.show_pydeck`` in a notebook of a Lab behind a JupyterHub-like prefix: the 3D
scene (demo DSM as a Dask DataArray, buildings, a point cloud) and a pydeck scene render, with no request
leaving 127.0.0.1."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import run_notebook, write_notebook

pytestmark = pytest.mark.browser

CELL_3D = """
import geopandas as gpd, rioxarray
from ai4geo_kernel import scene3d, viz
dsm = rioxarray.open_rasterio({dsm!r}, chunks=512).squeeze(drop=True).rename("dsm")
buildings = gpd.read_file({buildings!r})
points, classes = scene3d.dsm_point_cloud({dsm!r}, step=4)
viz.show3d(dsm, buildings, points, height=480)
"""

CELL_PYDECK = """
import pydeck as pdk
layer = pdk.Layer("PointCloudLayer", data=[{{"position": [float(x), float(y), float(z)]}}
                  for x, y, z in (points[::20] - points.mean(axis=0))], get_position="position",
                  get_color=[255, 160, 0], point_size=3,
                  coordinate_system=pdk.types.String("@@#COORDINATE_SYSTEM.CARTESIAN"))
view = {{"target": [0, 0, 0], "zoom": -0.5, "rotationX": 40, "rotationOrbit": 20}}
deck = pdk.Deck(layers=[layer], views=[pdk.View("OrbitView", controller=True)], map_style=None,
                map_provider=None, initial_view_state=view)
viz.show_pydeck(deck, height=400)
"""


def _drawn_fraction(png: bytes) -> float:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    background = pixels[2, 2]
    return float((np.abs(pixels - background).sum(axis=2) > 30).mean())


def test_show3d_and_pydeck_render_inline_offline(lab_factory, demo_area, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    cells = [
        CELL_3D.format(dsm=str(demo_area.dsm), buildings=str(demo_area.buildings_gpkg)),
        CELL_PYDECK.format(),
    ]
    write_notebook(root / "scene.ipynb", cells)
    lab = lab_factory(root=root, base_url="/user/alice/", extra_args=["--LabApp.expose_app_in_browser=True"])
    requests = run_notebook(page, lab, "scene.ipynb")
    page.wait_for_function(
        "() => { const v = document.querySelector('.jp-OutputArea-output .a4g-viewer3d');"
        " return v && v.a4gViewer && v.a4gViewer.layers.length === 3"
        " && v.a4gViewer.stats().firstFrameMs > 0; }",
        timeout=180_000,
    )
    page.wait_for_timeout(2000)
    canvas = page.locator(".jp-OutputArea-output .a4g-viewer3d canvas").first
    canvas.scroll_into_view_if_needed()
    png = page.screenshot(clip=canvas.bounding_box())
    (tmp_path / "show3d.png").write_bytes(png)
    assert _drawn_fraction(png) > 0.15
    kinds = page.evaluate(
        "() => document.querySelector('.jp-OutputArea-output .a4g-viewer3d')"
        ".a4gViewer.layers.map(l => l.info.kind)"
    )
    assert kinds == ["terrain", "buildings", "points"]

    frame = page.frame_locator(".jp-OutputArea-output iframe").first
    frame.locator("#deck-container canvas").first.wait_for(timeout=120_000)
    page.wait_for_timeout(3000)
    iframe = page.locator(".jp-OutputArea-output iframe").first
    iframe.scroll_into_view_if_needed()
    png = page.screenshot(clip=iframe.bounding_box())
    (tmp_path / "pydeck.png").write_bytes(png)
    orange = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    lit = (orange[..., 0] > 150) & (orange[..., 0] - orange[..., 2] > 100)  # the orange points, shaded
    assert lit.mean() > 0.01

    outside = [
        u
        for u in requests
        if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))
    ]
    assert not outside, outside[:5]
    assert not page.errors, page.errors
