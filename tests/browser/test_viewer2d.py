"""The 2D viewer in a real Lab behind a JupyterHub-like prefix: a large GeoTIFF opened from the file
browser, zoomed, a pixel read; two demo Sentinel-2 dates compared in the split view."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from tests.browser.conftest import open_lab, open_with

pytestmark = pytest.mark.browser
SIZE = 6000
TILES = ".a4g-viewer2d img.leaflet-tile-loaded"
VIEWER2D_READY = ".a4g-viewer2d[data-ready='true']:visible"


def _large_geotiff(path: Path) -> Path:
    """6000 x 6000, 4 bands uint16, UTM 31N, tiled with overviews (written in a few seconds)."""
    profile = {
        "driver": "GTiff",
        "width": SIZE,
        "height": SIZE,
        "count": 4,
        "dtype": "uint16",
        "crs": "EPSG:32631",
        "transform": from_origin(360_000.0, 4_840_000.0, 2.0, 2.0),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "zlevel": 1,
        "nodata": 0,
    }
    cols = np.arange(SIZE, dtype="uint32")
    with rasterio.open(path, "w", **profile) as dst:
        for top in range(0, SIZE, 1000):
            rows = np.arange(top, top + 1000, dtype="uint32")[:, None]
            block = np.stack(
                [
                    (rows * 7 + cols) % 3000 + 1,
                    (cols * 3 + rows * 0) % 2500 + 1,
                    (rows * 5 + cols * 0) % 2000 + 1,
                    (rows + cols) % 4000 + 1,
                ]
            ).astype("uint16")
            dst.write(block, window=((top, top + 1000), (0, SIZE)))
        dst.build_overviews([2, 4, 8, 16], rasterio.enums.Resampling.average)
    return path


def _wait_tiles(page, count: int = 4) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"() => document.querySelectorAll('{TILES}').length >= {count}"
        " && document.querySelectorAll("
        "'.a4g-viewer2d img.leaflet-tile:not(.leaflet-tile-loaded)').length === 0",
        timeout=60_000,
    )


def test_viewer2d_large_raster_pixel_inspector_and_split_view(
    lab_factory, demo_area, page, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "s2").mkdir(parents=True)
    large = _large_geotiff(root / "large.tif")
    first, second = demo_area.s2_asset(0, "red"), demo_area.s2_asset(1, "red")
    shutil.copy(first, root / "s2" / "date1_red.tif")
    shutil.copy(second, root / "s2" / "date2_red.tif")
    lab = lab_factory(root=root, base_url="/user/alice/")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab)

    open_with(
        page, "large.tif", "2D Viewer", ready=".a4g-viewer2d[data-ready='true']:visible", timeout=60_000
    )
    _wait_tiles(page)
    for _ in range(3):
        page.locator(".a4g-viewer2d .leaflet-control-zoom-in").click()
        page.wait_for_timeout(400)
    _wait_tiles(page)
    map_box = page.locator(".a4g-viewer2d .a4g-map")
    box = map_box.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6)
    page.wait_for_selector(".a4g-inspector .a4g-value", timeout=30_000)
    crs_line = page.locator(".a4g-inspector .a4g-point-crs").first.inner_text()
    assert crs_line.startswith("EPSG:32631")
    row, col = (int(v) for v in re.search(r"row (\d+), col (\d+)", crs_line).groups())
    shown = [int(v) for v in page.locator(".a4g-inspector .a4g-value").all_inner_texts()]
    with rasterio.open(large) as src:
        expected = src.read(window=((row, row + 1), (col, col + 1)))[:, 0, 0].tolist()
    assert shown == expected
    assert "WGS84 lon" in page.locator(".a4g-inspector .a4g-wgs84").inner_text()
    page.screenshot(path=str(tmp_path / "large_inspected.png"))

    # the view is kept: close the document, reopen it, same centre and zoom (3 levels in from the fitted view)
    saved = page.evaluate("() => JSON.parse(localStorage.getItem('ai4geo-viewer2d:large.tif'))")
    page.locator(".lm-TabBar-tab.jp-mod-current .lm-TabBar-tabCloseIcon").click()
    page.wait_for_selector(".a4g-viewer2d", state="detached", timeout=10_000)
    open_with(
        page, "large.tif", "2D Viewer", ready=".a4g-viewer2d[data-ready='true']:visible", timeout=60_000
    )
    _wait_tiles(page)
    page.wait_for_timeout(500)
    reopened = page.evaluate("() => JSON.parse(localStorage.getItem('ai4geo-viewer2d:large.tif'))")
    assert reopened["zoom"] == saved["zoom"] and reopened["layers"] == saved["layers"]
    assert (
        abs(reopened["center"][0] - saved["center"][0]) < 1e-6
        and abs(reopened["center"][1] - saved["center"][1]) < 1e-6
    )
    assert any(f"/tile/{saved['zoom']}/" in u for u in requests)

    # two demo dates side by side: open the first from the file browser, add the second, split
    page.locator(".jp-DirListing-item[title^='Name: s2']").first.dblclick()
    open_with(
        page, "date1_red.tif", "2D Viewer", ready=".a4g-viewer2d[data-ready='true']:visible", timeout=60_000
    )
    viewer = page.locator(".a4g-viewer2d:visible")
    viewer.locator(".a4g-add-path").fill("s2/date2_red.tif")
    viewer.locator(".a4g-add-button").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.a4g-viewer2d')].some("
        "v => v.offsetParent && v.querySelectorAll('.a4g-layer').length === 2)",
        timeout=30_000,
    )
    viewer.locator(".a4g-split-toggle").click()
    page.wait_for_selector(".a4g-viewer2d.a4g-split-on .a4g-split-divider:not([hidden])", timeout=10_000)
    _wait_tiles(page)
    clips = viewer.locator(".a4g-raster-tiles").evaluate_all("nodes => nodes.map(n => n.style.clip)")
    assert len(clips) == 2 and all(clip.startswith("rect(") for clip in clips) and clips[0] != clips[1]
    page.screenshot(path=str(tmp_path / "split.png"))

    tiles = [u for u in requests if "/ai4geo/tiles/tile/" in u]
    assert tiles and all(u.startswith(f"{lab.url}ai4geo/tiles/tile/") for u in tiles)
    assert any("date2_red.tif" in u for u in tiles) and any("date1_red.tif" in u for u in tiles)
    outside = [
        u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
    ]
    assert not outside, outside[:5]
    assert not page.errors, page.errors


_TEXT_COLOURS = """
(root) => {
  const parse = (text) => { const v = (text.match(/[\\d.]+/g) || []).map(Number);
                            return [v[0] || 0, v[1] || 0, v[2] || 0, v.length > 3 ? v[3] : 1]; };
  const found = [];
  for (const el of root.querySelectorAll('*')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
      || (['INPUT', 'SELECT'].includes(el.tagName) && (el.value || el.placeholder));
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!own || !box.width || !box.height) continue;
    if (style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const bg = parse(getComputedStyle(node).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    const cls = String(el.className || (el.parentElement && el.parentElement.className) || '');
    found.push({tag: el.tagName, cls, text: (el.value || el.textContent).trim().slice(0, 40),
                color: parse(style.color), opacity: Number(style.opacity), backgrounds: layers});
  }
  return found;
}
"""


def _luminance(rgb) -> float:  # type: ignore[no-untyped-def]
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(entry: dict) -> float:
    """WCAG contrast ratio of an element's text over its composited background."""
    background = np.array([255.0, 255.0, 255.0])
    for red, green, blue, alpha in reversed(entry["backgrounds"]):
        background = background * (1 - alpha) + np.array([red, green, blue]) * alpha
    *rgb, alpha = entry["color"]
    text = background * (1 - alpha) + np.array(rgb) * alpha
    high, low = sorted((_luminance(text), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_viewer2d_in_the_dark_theme_keeps_every_control_readable(
    lab_factory, demo_area, page, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(demo_area.dsm, root / "dsm.tif")
    shutil.copy(demo_area.buildings_geojson, root / "buildings.geojson")
    lab = lab_factory(root=root, extra_args=["--LabApp.expose_app_in_browser=True"])
    open_lab(page, lab)
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached", timeout=30_000)
    page.wait_for_timeout(1000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # the 2D viewer is the default for .tif: a double click opens it
    page.locator(".jp-DirListing-item[title^='Name: dsm.tif']").first.dblclick()
    page.locator(".a4g-viewer2d[data-ready='true']:visible").first.wait_for(timeout=60_000)
    _wait_tiles(page, 1)
    viewer = page.locator(".a4g-viewer2d:visible")
    viewer.locator(".a4g-add-path").fill("buildings.geojson")
    viewer.locator(".a4g-add-button").click()
    page.wait_for_selector(".a4g-viewer2d path.leaflet-interactive", timeout=30_000)
    viewer.locator(".a4g-layer-name", has_text="dsm").first.click()  # its style controls and histogram
    viewer.locator(".a4g-colormap").select_option("terrain")
    viewer.locator(".a4g-apply").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.a4g-viewer2d img.leaflet-tile-loaded')]"
        ".some(i => i.src.includes('colormap=terrain'))",
        timeout=30_000,
    )
    viewer.locator(".a4g-opacity").first.fill("0.5")  # the raster's opacity slider
    page.wait_for_function(
        "() => document.querySelector('.a4g-viewer2d .a4g-raster-tiles').style.opacity === '0.5'",
        timeout=10_000,
    )
    box = viewer.locator(".a4g-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".a4g-inspector .a4g-value", timeout=30_000)
    viewer.locator(".a4g-split-toggle").click()  # one raster only: the banner says why
    page.wait_for_selector(".a4g-banner:not([hidden])", timeout=10_000)
    _wait_tiles(page, 1)
    page.screenshot(path=str(tmp_path / "viewer2d_dark.png"))

    panel_background = viewer.locator(".a4g-panel").evaluate("n => getComputedStyle(n).backgroundColor")
    assert panel_background in ("rgb(33, 33, 33)",), panel_background  # --jp-layout-color1 of the dark theme
    entries = viewer.evaluate(_TEXT_COLOURS)
    for expected in (
        "a4g-layer-name",
        "a4g-add-button",
        "a4g-apply",
        "a4g-value",
        "a4g-point-crs",
        "a4g-banner",
        "a4g-meta",
        "a4g-colormap",
        "a4g-bands",
        "leaflet-control-scale-line",
        "leaflet-control-zoom-in",
    ):
        assert any(expected in entry["cls"] for entry in entries), (
            expected,
            sorted({e["cls"] for e in entries}),
        )
    unreadable = [(e["cls"], e["text"], round(_contrast(e), 2)) for e in entries if _contrast(e) < 4.5]
    assert not unreadable, unreadable
    assert any("/ai4geo/tiles/vector?" in u and "buildings.geojson" in u for u in requests)
    assert not page.errors, page.errors
