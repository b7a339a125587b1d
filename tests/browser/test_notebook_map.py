"""Notebook 01 run in a real Lab: its ipyleaflet map draws tiles served from 127.0.0.1, with no internet."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import open_lab

pytestmark = pytest.mark.browser
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_catalog_to_cube.ipynb"


def test_notebook_01_map_shows_tiles_in_the_browser(lab_factory, demo_services, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    lab = lab_factory(root=root, extra_args=["--LabApp.expose_app_in_browser=True"])
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab, f"lab/tree/{NOTEBOOK.name}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=90_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # the last cell closes the cluster: wait for the map's tiles, loaded from the kernel's tile server
    loaded = ".jp-Notebook .leaflet-container img.leaflet-tile-loaded"
    page.wait_for_selector(loaded, timeout=240_000)
    page.wait_for_function(f"() => document.querySelectorAll('{loaded}').length >= 2", timeout=60_000)
    map_box = page.locator(".jp-Notebook .leaflet-container").first
    map_box.scroll_into_view_if_needed()
    map_box.screenshot(path=str(tmp_path / "map.png"))
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
