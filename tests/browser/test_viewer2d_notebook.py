"""``viz.show()`` of a Dask-backed DataArray in a Lab behind a JupyterHub-like prefix: the map's tiles come
through the Jupyter server (jupyter-server-proxy, ``/user/alice/proxy/PORT/...``), with no configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import run_notebook, write_notebook

pytestmark = pytest.mark.browser

CELL = """
import dask.array as da, numpy as np, xarray as xr, rioxarray
from ai4geo_kernel import viz
rows, cols = np.mgrid[0:1500, 0:1500]
data = da.from_array(((rows * 3 + cols) % 1000).astype("float32"), chunks=256)
x = 360_000 + 10.0 * (np.arange(1500) + 0.5)
y = 4_840_000 - 10.0 * (np.arange(1500) + 0.5)
array = xr.DataArray(data, dims=("y", "x"), coords={"x": x, "y": y}, name="ramp").rio.write_crs("EPSG:32631")
m = viz.show(array, colormap="viridis", rescale=(0, 1000))
print(viz.tile_server().browser_url)
m
"""


def test_show_dask_array_renders_tiles_through_the_jupyter_server(lab_factory, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "show.ipynb", [CELL])
    lab = lab_factory(root=root, base_url="/user/alice/", extra_args=["--LabApp.expose_app_in_browser=True"])
    requests = run_notebook(page, lab, "show.ipynb")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-container img.leaflet-tile-loaded').length >= 4",
        timeout=120_000,
    )
    page.screenshot(path=str(tmp_path / "map.png"))
    printed = page.locator(".jp-OutputArea-output pre").first.inner_text().strip()
    assert printed.startswith("/user/alice/proxy/"), printed
    tiles = [u for u in requests if "/tiles/" in u]
    assert tiles and all(u.startswith(f"{lab.url}proxy/") for u in tiles), tiles[:3]
    loaded = page.evaluate(
        "() => [...document.querySelectorAll('.leaflet-container img.leaflet-tile-loaded')]"
        ".filter(i => i.naturalWidth === 256).length"
    )
    assert loaded >= 4


ITEM_CELL = """
import pystac
from ai4geo_kernel import viz
item = pystac.Item.from_file("items/{name}/{name}.json")
m = viz.show(item)
print(m.layers[-1].name)
m
"""


def test_show_stac_item_renders_its_rgb_assets_through_the_jupyter_server(
    lab_factory, demo_area, page, tmp_path: Path
) -> None:
    import shutil

    import numpy as np

    from tests.browser._leaflet_mosaic import expected_mosaic, read_map

    root = tmp_path / "root"
    folder = demo_area.s2_asset(6, "red").parent
    shutil.copytree(folder, root / "items" / folder.name)
    write_notebook(root / "item.ipynb", [ITEM_CELL.format(name=folder.name)])
    lab = lab_factory(root=root, base_url="/user/alice/", extra_args=["--LabApp.expose_app_in_browser=True"])
    requests = run_notebook(page, lab, "item.ipynb")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-container img.leaflet-tile-loaded').length >= 1"
        " && document.querySelectorAll("
        "'.leaflet-container img.leaflet-tile:not(.leaflet-tile-loaded)').length === 0",
        timeout=120_000,
    )
    page.wait_for_timeout(1000)
    assert (
        page.locator(".jp-OutputArea-output pre").first.inner_text().strip()
        == f"{folder.name} red/green/blue"
    )
    tiles = [u for u in requests if "/tiles/" in u]
    assert tiles and all(u.startswith(f"{lab.url}proxy/") for u in tiles), tiles[:3]
    assert all("bands=1,2,3" in u for u in tiles)
    # what the browser shows is the mosaic of the layer's tiles, fetched here through the same proxy
    map_box = page.locator(".leaflet-container").first
    reading = read_map(map_box)
    expected, covered, _ = expected_mosaic(reading, token=lab.token)
    assert covered.sum() > 10_000
    shot = reading.screenshot.astype("float64")
    difference = np.min(
        [np.abs(shot - np.roll(expected, s, axis=a)).max(axis=-1) for a in (0, 1) for s in (-1, 0, 1)], axis=0
    )
    page.screenshot(path=str(tmp_path / "item_map.png"))
    assert np.percentile(difference[covered], 99) <= 6
    assert expected[covered].std() > 5  # a picture, not a flat colour
