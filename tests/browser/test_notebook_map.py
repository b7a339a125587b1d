"""Notebook 01 run in a real Lab: its ipyleaflet map draws tiles served from 127.0.0.1, with no internet, and
what the browser shows is the mosaic of the tiles of the map's zoom (no enlarged tiles, no steps at tile
edges)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.browser._leaflet_mosaic import expected_mosaic, read_map, seam_ratio
from tests.browser.conftest import run_notebook

pytestmark = pytest.mark.browser
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_catalog_to_cube.ipynb"


def test_notebook_01_map_shows_tiles_in_the_browser(lab_factory, demo_services, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    lab = lab_factory(root=root, extra_args=["--LabApp.expose_app_in_browser=True"])
    requests = run_notebook(page, lab, NOTEBOOK.name)
    # the last cell closes the cluster: wait for the map's tiles, loaded from the kernel's tile server
    loaded = ".jp-Notebook .leaflet-container img.leaflet-tile-loaded"
    page.wait_for_selector(loaded, timeout=240_000)
    page.wait_for_function(f"() => document.querySelectorAll('{loaded}').length >= 2", timeout=60_000)
    map_box = page.locator(".jp-Notebook .leaflet-container").first
    map_box.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelectorAll("
        "'.jp-Notebook .leaflet-container img.leaflet-tile:not(.leaflet-tile-loaded)').length === 0",
        timeout=60_000,
    )
    page.wait_for_timeout(1000)  # Leaflet fades loaded tiles in over 200 ms
    map_box.screenshot(path=str(tmp_path / "map.png"))

    # the screenshot against the tiles of the map's zoom, fetched here and blended like the two layers
    reading = read_map(map_box)
    expected, covered, zoom = expected_mosaic(reading, token=lab.token)
    from PIL import Image

    Image.fromarray(np.clip(expected, 0, 255).astype("uint8")).save(tmp_path / "map_expected.png")
    # the notebook output sits at a fractional page position (the map's top at y + 0.2 px here), so Chrome
    # blends one row or column at each pixel edge: each screenshot pixel is compared with the closest of the
    # mosaic's pixel and its 4 neighbours (a stretched, blurred or shifted map still differs by far more)
    shot = reading.screenshot.astype("float64")
    difference = np.min(
        [
            np.abs(shot - np.roll(expected, shift, axis=axis)).max(axis=-1)
            for axis in (0, 1)
            for shift in (-1, 0, 1)
        ],
        axis=0,
    )
    Image.fromarray(np.clip(difference * 4, 0, 255).astype("uint8")).save(tmp_path / "map_difference.png")
    assert covered.sum() > 20_000, "the raster should fill a good part of the map"
    shown = [t for layer in reading.layers for t in layer["tiles"] if t["loaded"]]
    seams = seam_ratio(reading, reading.screenshot, covered)
    print(
        f"zoom {zoom}; tile sizes on screen {sorted({round(t['width']) for t in shown})}; "
        f"difference p50 {np.median(difference[covered]):.1f}, "
        f"p99 {np.percentile(difference[covered], 99):.1f}, "
        f"over 16: {(difference[covered] > 16).mean():.1%}; seam ratio {seams} "
        f"(mosaic {seam_ratio(reading, expected, covered)})"
    )
    assert all(round(t["width"]) == 256 for t in shown), "tiles of another zoom are enlarged or shrunk"
    assert np.percentile(difference[covered], 99) <= 6, "the map differs from the mosaic of its tiles"
    assert seams is not None and seams < 1.6, (
        f"steps at tile edges: jumps across them {seams}x those inside tiles"
    )
    page.screenshot(path=str(tmp_path / "notebook.png"), full_page=False)
    tiles = [u for u in requests if "/tiles/" in u]
    assert tiles and all(u.startswith("http://127.0.0.1:") for u in tiles)
    outside = [
        u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
    ]
    assert not outside, outside[:5]
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg"
    )
    assert errors.count() == 0
