"""The catalog panel in a real Lab and Chromium: search the demo catalog, see rows and footprints, details,
insert the code into a new notebook, run it and get the same item ids; also under a JupyterHub-like prefix,
with an extent loaded from a GeoPackage, and the dark theme.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import geopandas as gpd
import pystac
import pytest
import shapely

from ai4geo_kernel import catalog
from tests.browser.conftest import open_lab

pytestmark = pytest.mark.browser
PANEL = "#ai4geo-catalog"
START, END = "2024-03-01", "2024-08-31"
PAGE_SIZE = 10  # the settings' default


@pytest.fixture(autouse=True)
def jp_asyncio_loop():  # type: ignore[no-untyped-def]
    """Overrides pytest-jupyter's autouse fixture (active once any module loads that plugin): it would close
    the asyncio loop that Playwright's sync API keeps running here ("Cannot close a running event loop")."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup():  # type: ignore[no-untyped-def]
    """Same for pytest-jupyter's autouse server cleanup: these tests start their Lab in a subprocess."""
    yield None


def _open_panel(page) -> None:  # type: ignore[no-untyped-def]
    page.locator('li[data-id="ai4geo-catalog"]').click()
    page.wait_for_selector(f"{PANEL} select[data-field=collection] option[value=demo-s2]", timeout=60_000)


def _fill_form(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{PANEL} input[data-field=collection-filter]").fill("s2")
    # type-to-filter: only the matching collections are left
    options = page.locator(f"{PANEL} select[data-field=collection] option")
    assert options.count() >= 1 and all("s2" in o.lower() for o in options.all_inner_texts())
    page.locator(f"{PANEL} select[data-field=collection]").select_option("demo-s2")
    assert page.locator(f"{PANEL} select[data-field=collection] option[value=demo-s2]").get_attribute("title")
    page.locator(f"{PANEL} input[data-field=start]").fill(START)
    page.locator(f"{PANEL} input[data-field=end]").fill(END)


def _draw_rectangle(page) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{PANEL} button[data-action=draw-rectangle]").click()
    box_node = page.locator(f"{PANEL} .ai4geo-map")
    box_node.scroll_into_view_if_needed()
    box = box_node.bounding_box()
    assert box is not None
    # from right of the zoom buttons to near the opposite corner: the default view (Toulouse, zoom 9)
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.9, steps=5)
    page.mouse.up()
    drawn = page.locator(f"{PANEL} .leaflet-overlay-pane path.leaflet-interactive[stroke='#e0245e']")
    assert drawn.count() == 1
    assert "ai4geo-active" not in (
        page.locator(f"{PANEL} button[data-action=draw-rectangle]").get_attribute("class") or ""
    )


def _search_and_check(page, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{PANEL} button[data-action=search]").click()
    page.wait_for_selector(f"{PANEL}[data-state=results]", timeout=60_000)
    rows = page.locator(f"{PANEL} tr.ai4geo-result")
    shown = min(len(expected), PAGE_SIZE)
    assert rows.count() == shown
    assert [rows.nth(i).get_attribute("data-item-id") for i in range(shown)] == expected[:shown]
    footprints = page.locator(f"{PANEL} .leaflet-overlay-pane path[data-item-id]")
    assert footprints.count() == shown
    assert (
        page.locator(f"{PANEL} [data-field=results-info]").inner_text().startswith(f"{len(expected)} item(s)")
    )
    # hover a row: its footprint is highlighted; hover a footprint: its row is
    first = expected[0]
    rows.first.hover()
    path = page.locator(f"{PANEL} .leaflet-overlay-pane path[data-item-id='{first}']")
    assert path.get_attribute("stroke") == "#ff7800"
    page.locator(f"{PANEL} [data-field=status]").hover()
    assert path.get_attribute("stroke") == "#3388ff"
    page.evaluate(
        "id => document.querySelector(`#ai4geo-catalog path[data-item-id='${id}']`)"
        ".dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))",
        expected[1],
    )
    assert "ai4geo-hover" in (rows.nth(1).get_attribute("class") or "")
    # click a row: the details pane shows every property
    rows.nth(1).click()
    details = page.locator(f"{PANEL} [data-field=details]")
    assert details.get_attribute("data-item-id") == expected[1]
    text = details.inner_text()
    assert expected[1] in text and "eo:cloud_cover" in text and "datetime" in text
    # paging
    if len(expected) > PAGE_SIZE:
        page.locator(f"{PANEL} button[data-action=next-page]").click()
        assert rows.first.get_attribute("data-item-id") == expected[PAGE_SIZE]
        page.locator(f"{PANEL} button[data-action=previous-page]").click()


def _insert_run_and_read_ids(page) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    page.locator(f"{PANEL} button[data-action=insert-code]").click()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=90_000,
    )
    code = page.evaluate(
        "window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()"
    )
    assert "catalog.search(" in code
    page.evaluate("""() => {
        const nb = window.jupyterapp.shell.currentWidget;
        const shared = nb.content.model.sharedModel;
        shared.insertCell(nb.content.activeCellIndex + 1, {cell_type: 'code',
          source: 'import json\\nprint("IDS=" + json.dumps([item.id for item in results]))'});
    }""")
    for _ in range(20):  # a run before the kernel is really ready is dropped: retry until the prompts show
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        try:
            page.wait_for_function(
                "() => document.querySelectorAll('.jp-Notebook .jp-InputPrompt')[1]"
                " && /\\[\\d+\\]/.test(document.querySelectorAll('.jp-Notebook .jp-InputPrompt')[1]"
                ".textContent)",
                timeout=15_000,
            )
            break
        except Exception:  # noqa: BLE001 - playwright timeout: run again
            continue
    output = page.locator(".jp-Notebook .jp-OutputArea-output", has_text="IDS=")
    output.wait_for(timeout=120_000)
    line = next(part for part in output.inner_text().splitlines() if part.startswith("IDS="))
    return code, json.loads(line.removeprefix("IDS="))


def _download_save_and_place(page, lab, item_id: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"{PANEL} tr.ai4geo-result[data-item-id='{item_id}'] input[type=checkbox]").check()
    page.locator(f"{PANEL} input[data-field=download-folder]").fill("downloads/s2")
    page.locator(f"{PANEL} button[data-action=download]").click()
    page.wait_for_selector(f"{PANEL} [data-field=progress][data-state=done]", timeout=120_000)
    entry = page.locator(f"{PANEL} [data-field=progress] li[data-item-id='{item_id}']")
    assert entry.get_attribute("data-state") == "done"
    folder = lab.root / "downloads" / "s2" / item_id
    assert any(p.suffix == ".tif" and p.stat().st_size > 0 for p in folder.rglob("*"))
    entry.locator("button[data-action=open-2d]").click()
    page.wait_for_selector(
        "#jp-main-dock-panel .lm-TabBar-tab .lm-TabBar-tabLabel:text-matches('\\.tif$')", timeout=60_000
    )
    # save as STAC: the selected item as an ItemCollection file under the root
    page.locator(f"{PANEL} input[data-field=save-path]").fill("found.json")
    page.locator(f"{PANEL} button[data-action=save-stac]").click()
    page.wait_for_function(
        "() => document.querySelector('#ai4geo-catalog [data-field=status]').textContent"
        ".includes('saved as STAC')",
        timeout=30_000,
    )
    saved = pystac.ItemCollection.from_file(str(lab.root / "found.json"))
    assert [item.id for item in saved] == [item_id]
    # save the drawn extent as a place: it lands in the user's settings
    page.locator(f"{PANEL} input[data-field=place-name]").fill("demo site")
    page.locator(f"{PANEL} button[data-action=save-place]").click()
    page.wait_for_function(
        "() => document.querySelector('#ai4geo-catalog [data-field=status]').textContent"
        ".includes('saved in your settings')",
        timeout=30_000,
    )
    with urllib.request.urlopen(
        f"{lab.url}lab/api/settings/@ai4geo/catalog:plugin?token={lab.token}"
    ) as answer:
        places = json.loads(answer.read())["settings"]["places"]
    assert [p["name"] for p in places] == ["demo site"] and places[0]["geometry"]["type"] == "Polygon"


def _bbox_from_code(code: str) -> list[float]:
    found = re.search(r"bbox=\[([^\]]+)\]", code)
    assert found, code
    return [float(v) for v in found.group(1).split(",")]


def test_search_draw_details_insert_code_and_run(
    lab_factory, demo_services, demo_area, page, tmp_path: Path
) -> None:
    lab = lab_factory(extra_args=["--LabApp.expose_app_in_browser=True"])
    open_lab(page, lab)
    _open_panel(page)
    _fill_form(page)
    _draw_rectangle(page)
    expected = [
        item.id
        for item in catalog.search("demo-s2", bbox=demo_area.bbox_wgs84, start=START, end=END, limit=100)
    ]
    assert len(expected) > 1
    _search_and_check(page, expected)
    page.locator(PANEL).screenshot(path=str(tmp_path / "catalog_panel.png"))
    # the details pane shows the item's thumbnail (served by the demo asset server)
    page.wait_for_function(
        "() => { const img = document.querySelector('#ai4geo-catalog [data-field=details] img');"
        " return img && img.complete && img.naturalWidth > 0; }",
        timeout=30_000,
    )
    _download_save_and_place(page, lab, expected[0])
    code, ids = _insert_run_and_read_ids(page)
    # a second insert replaces the cell it inserted before (the default setting)
    page.locator(f"{PANEL} button[data-action=insert-code]").click()
    page.wait_for_function(
        "() => document.querySelector('#ai4geo-catalog [data-field=status]').textContent"
        ".includes('code inserted')",
        timeout=30_000,
    )
    sources = page.evaluate(
        "window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.map(c => c.getSource())"
    )
    assert sum("catalog.search(" in source for source in sources) == 1 and len(sources) == 2
    west, south, east, north = _bbox_from_code(code)
    dw, ds, de, dn = demo_area.bbox_wgs84
    assert west < dw and south < ds and east > de and north > dn  # the drawn rectangle holds the demo area
    assert f"start='{START}'" in code and f"end='{END}'" in code and "limit=100" in code
    assert ids == expected
    assert not page.errors


def test_same_flow_under_a_hub_prefix_with_a_geopackage_extent_and_the_dark_theme(
    lab_factory, demo_services, demo_area, page, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "areas").mkdir(parents=True)
    west, south, east, north = demo_area.bbox_wgs84
    area = shapely.box(west, south, east, north).buffer(0.002, join_style="mitre")
    gpd.GeoDataFrame({"name": ["demo"]}, geometry=[area], crs="EPSG:4326").to_crs("EPSG:32631").to_file(
        root / "areas" / "site.gpkg"
    )
    lab = lab_factory(root=root, base_url="/user/alice/", extra_args=["--LabApp.expose_app_in_browser=True"])
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab)
    page.evaluate("window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached", timeout=30_000)
    page.wait_for_timeout(1000)
    # JupyterLab's own theme switch sometimes reports a removeChild race: errors are counted from here on
    errors_before = len(page.errors)
    _open_panel(page)
    _fill_form(page)
    page.locator(f"{PANEL} input[data-field=geometry-path]").fill("areas/site.gpkg")
    page.locator(f"{PANEL} button[data-action=load-geometry]").click()
    page.wait_for_function(
        "() => document.querySelector('#ai4geo-catalog [data-field=status]').textContent"
        ".includes('extent loaded')",
        timeout=30_000,
    )
    expected = [item.id for item in catalog.search("demo-s2", geometry=area, start=START, end=END, limit=100)]
    _search_and_check(page, expected)
    page.locator(PANEL).screenshot(path=str(tmp_path / "catalog_panel_dark.png"))
    code, ids = _insert_run_and_read_ids(page)
    assert "geometry={'type': 'Polygon'" in code
    assert ids == expected
    api = [u for u in requests if "/ai4geo/catalog/" in u]
    assert api and all(u.startswith(f"{lab.url}ai4geo/catalog/") for u in api)
    outside = [
        u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
    ]
    assert not outside, outside[:5]
    assert not page.errors[errors_before:]


def test_errors_show_next_to_their_field_and_keep_the_form(lab_factory, demo_services, page) -> None:
    lab = lab_factory()
    open_lab(page, lab)
    _open_panel(page)
    _fill_form(page)
    page.locator(f"{PANEL} input[data-field=start]").fill("2024-09-01")  # after the end
    page.locator(f"{PANEL} button[data-action=search]").click()
    error = page.locator(f"{PANEL} [data-error-for=end]")
    error.wait_for(state="visible", timeout=30_000)
    assert "before start" in error.inner_text()
    assert page.locator(f"{PANEL} input[data-field=start]").input_value() == "2024-09-01"
    assert page.locator(f"{PANEL} select[data-field=collection]").input_value() == "demo-s2"
    page.locator(f"{PANEL} input[data-field=start]").fill(START)
    page.locator(f"{PANEL} summary").click()
    page.locator(f"{PANEL} input[data-field=cloud_cover]").fill("140")
    page.locator(f"{PANEL} button[data-action=search]").click()
    error = page.locator(f"{PANEL} [data-error-for=cloud_cover]")
    error.wait_for(state="visible", timeout=30_000)
    assert "between 0 and 100" in error.inner_text()
    assert page.locator(f"{PANEL} [data-error-for=end]").inner_text() == ""
    # a polygon drawn by clicks, closed by a double click, is the extent
    page.locator(f"{PANEL} input[data-field=cloud_cover]").fill("")
    page.locator(f"{PANEL} button[data-action=draw-polygon]").click()
    box = page.locator(f"{PANEL} .ai4geo-map").bounding_box()
    assert box is not None
    for fx, fy in ((0.35, 0.3), (0.85, 0.35), (0.6, 0.85)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.mouse.dblclick(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.8)
    drawn = page.locator(f"{PANEL} .leaflet-overlay-pane path.leaflet-interactive[stroke='#e0245e']")
    assert drawn.count() == 1
    page.locator(f"{PANEL} button[data-action=search]").click()
    page.wait_for_selector(f"{PANEL}[data-state=results]", timeout=60_000)
    assert page.locator(f"{PANEL} tr.ai4geo-result").count() > 0
