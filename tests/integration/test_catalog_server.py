"""The catalog panel's REST API (``/ai4geo/catalog/...``) in a real Jupyter server, against the demo STAC API.

Every endpoint answers the demo catalog; without the token it answers 403; each bad parameter answers 400
naming the field; a dead provider answers 502 naming it; downloads stay under the server root.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import geopandas as gpd
import pystac
import pytest
import shapely
import shapely.geometry
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from ai4geo_kernel import _process, catalog

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.integration


@pytest.fixture
def jp_server_config():  # type: ignore[no-untyped-def]
    return {"ServerApp": {"jpserver_extensions": {"ai4geo_catalog": True}}}


async def _get(jp_fetch, route: str, **params):  # type: ignore[no-untyped-def]
    response = await jp_fetch("ai4geo", "catalog", *route.split("/"), params=params, method="GET")
    return json.loads(response.body)


async def _post(jp_fetch, route: str, body: dict):  # type: ignore[no-untyped-def]
    response = await jp_fetch("ai4geo", "catalog", *route.split("/"), method="POST", body=json.dumps(body))
    return response.code, json.loads(response.body)


async def _error(jp_fetch, route: str, body: dict | None = None, **params):  # type: ignore[no-untyped-def]
    with pytest.raises(HTTPClientError) as info:
        if body is None:
            await jp_fetch("ai4geo", "catalog", route, params=params, method="GET")
        else:
            await jp_fetch("ai4geo", "catalog", route, method="POST", body=json.dumps(body))
    return info.value.code, json.loads(info.value.response.body)


def _search_body(demo_area, **extra):  # type: ignore[no-untyped-def]
    return {
        "provider": catalog.DEMO_PROVIDER,
        "collection": "demo-s2",
        "bbox": list(demo_area.bbox_wgs84),
        "start": "2024-03-01",
        "end": "2024-08-31",
        **extra,
    }


async def test_providers_collections_queryables(jp_fetch, demo_services) -> None:
    providers = await _get(jp_fetch, "providers")
    assert providers["default"] == catalog.DEMO_PROVIDER
    assert providers["providers"][0]["id"] == catalog.DEMO_PROVIDER
    assert "demo" in providers["providers"][0]["description"].lower()
    found = await _get(jp_fetch, "collections", provider=catalog.DEMO_PROVIDER)
    ids = {c["id"] for c in found["collections"]}
    assert {"demo-vhr", "demo-elevation", "demo-s2", "demo-s1", "demo-truth"} <= ids
    assert all("description" in c and "title" in c for c in found["collections"])
    fields = await _get(jp_fetch, "queryables", provider=catalog.DEMO_PROVIDER, collection="demo-s2")
    assert fields["queryables"]["cloud_cover"]["type"] == "number"
    assert fields["queryables"]["cloud_cover"]["maximum"] == 100


async def test_search_answers_the_items_and_the_code_that_finds_them_again(
    jp_fetch, demo_services, demo_area
) -> None:
    code, reply = await _post(jp_fetch, "search", _search_body(demo_area, cloud_cover=60, limit=50))
    assert code == 200
    direct = catalog.search(
        "demo-s2",
        bbox=demo_area.bbox_wgs84,
        start="2024-03-01",
        end="2024-08-31",
        cloud_cover=60,
        limit=50,
        provider=catalog.DEMO_PROVIDER,
    )
    ids = [item["id"] for item in reply["items"]]
    assert ids == [item.id for item in direct] and len(ids) > 0
    assert reply["returned"] == len(ids) and reply["matched"] is None
    assert reply["provider"] == catalog.DEMO_PROVIDER
    first = reply["items"][0]
    assert first["geometry"]["type"] == "Polygon" and first["properties"]["eo:cloud_cover"] <= 60
    assert first["ai4geo:summary"]["datetime"].startswith("2024-")
    # the cell the panel inserts runs the same search
    assert "catalog.search(\n    'demo-s2'," in reply["code"] and "cloud_cover=60" in reply["code"]
    namespace: dict = {}
    exec(compile(reply["code"], "<panel cell>", "exec"), namespace)  # noqa: S102 - the code under test
    assert [item.id for item in namespace["results"]] == ids


async def test_search_with_a_geometry_and_a_count(jp_fetch, demo_services, demo_area) -> None:
    west, south, east, north = demo_area.bbox_wgs84
    polygon = shapely.geometry.mapping(shapely.box(west, south, east, north).buffer(-0.001))
    polygon = json.loads(json.dumps(polygon))  # tuples to lists, as the browser sends it
    code, reply = await _post(
        jp_fetch, "search", {"collection": "demo-s2", "geometry": polygon, "limit": 3, "count": True}
    )
    total = len(catalog.search("demo-s2", geometry=polygon))
    assert code == 200 and reply["returned"] == 3 and reply["matched"] == total > 3
    assert "geometry={'type': 'Polygon'" in reply["code"]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"bbox": [1.5, 43.5, 1.4, 43.7]}, "bbox"),
        ({"start": "2024-05-01", "end": "2024-04-01"}, "end"),
        ({"start": "not a date"}, "start"),
        ({"collection": "demo-s3"}, "collection"),
        ({"geometry": {"type": "Polygon", "coordinates": [[[0, 0]]]}}, "geometry"),
        ({"cloud_cover": 140}, "cloud_cover"),
        ({"provider": "nowhere"}, "provider"),
        ({"collection": ""}, "collection"),
    ],
)
async def test_bad_parameters_answer_400_naming_the_field(jp_fetch, demo_services, body, parameter) -> None:
    request = {"collection": "demo-s2", **body}
    code, reply = await _error(jp_fetch, "search", request)
    assert code == 400
    assert reply["parameter"] == parameter and reply["message"]


async def test_unknown_collection_in_queryables_answers_400(jp_fetch, demo_services) -> None:
    code, reply = await _error(jp_fetch, "queryables", provider=catalog.DEMO_PROVIDER, collection="demo-s3")
    assert code == 400 and reply["parameter"] == "collection" and "demo-s2" in reply["message"]


async def test_a_dead_provider_answers_502_naming_it(jp_fetch, demo_services, monkeypatch) -> None:
    monkeypatch.setenv("AI4GEO_DEMO_STAC_URL", f"http://127.0.0.1:{_process.free_port()}")
    code, reply = await _error(
        jp_fetch, "search", {"collection": "demo-s2", "provider": catalog.DEMO_PROVIDER}
    )
    assert code == 502 and reply["provider"] == catalog.DEMO_PROVIDER and "unreachable" in reply["message"]
    code, reply = await _error(jp_fetch, "collections", provider=catalog.DEMO_PROVIDER)
    assert code == 502 and reply["provider"] == catalog.DEMO_PROVIDER


async def test_every_endpoint_needs_the_token(jp_fetch, jp_http_port, jp_base_url, demo_services) -> None:
    client = AsyncHTTPClient()
    base = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ai4geo/catalog/"
    for route, method in [
        ("providers", "GET"),
        ("collections", "GET"),
        ("queryables?collection=demo-s2", "GET"),
        ("world", "GET"),
        ("download/" + "0" * 32, "GET"),
        ("search", "POST"),
        ("download", "POST"),
        ("save", "POST"),
        ("geometry", "POST"),
    ]:
        body = json.dumps({"collection": "demo-s2"}) if method == "POST" else None
        response = await client.fetch(base + route, method=method, body=body, raise_error=False)
        assert response.code == 403, (route, response.code)


async def test_download_selected_items_with_per_item_progress(
    jp_fetch, demo_services, demo_area, jp_root_dir: Path
) -> None:
    _, reply = await _post(jp_fetch, "search", _search_body(demo_area, limit=3))
    ids = [item["id"] for item in reply["items"]][:2]
    code, task = await _post(
        jp_fetch, "download", {"search_id": reply["search_id"], "ids": ids, "folder": "data/s2"}
    )
    assert code == 202 and set(task["items"]) == set(ids) and task["folder"] == "data/s2"
    for _ in range(600):
        task = await _get(jp_fetch, f"download/{task['task_id']}")
        if task["state"] != "running":
            break
        await asyncio.sleep(0.1)
    assert task["state"] == "done", task
    for item_id in ids:
        assert task["items"][item_id] == {"state": "done", "path": f"data/s2/{item_id}", "error": None}
        assert any(
            p.is_file() and p.stat().st_size > 0 for p in (jp_root_dir / "data" / "s2" / item_id).rglob("*")
        )
    assert sorted(os.listdir(jp_root_dir / "data" / "s2")) == sorted(ids)


@pytest.mark.parametrize("folder", ["../outside", "data/../../outside", "/../../etc"])
async def test_downloads_never_leave_the_server_root(jp_fetch, demo_services, demo_area, folder) -> None:
    _, reply = await _post(jp_fetch, "search", _search_body(demo_area, limit=1))
    code, error = await _error(
        jp_fetch,
        "download",
        {"search_id": reply["search_id"], "ids": [reply["items"][0]["id"]], "folder": folder},
    )
    assert code == 400 and error["parameter"] == "folder" and "outside" in error["message"]


async def test_download_of_an_unknown_search_or_item_answers_400(jp_fetch, demo_services, demo_area) -> None:
    code, error = await _error(jp_fetch, "download", {"search_id": "nope", "ids": ["x"], "folder": "d"})
    assert code == 400 and error["parameter"] == "search_id"
    _, reply = await _post(jp_fetch, "search", _search_body(demo_area, limit=1))
    code, error = await _error(
        jp_fetch, "download", {"search_id": reply["search_id"], "ids": ["x"], "folder": "d"}
    )
    assert code == 400 and error["parameter"] == "ids"


async def test_save_as_stac_item_collection(jp_fetch, demo_services, demo_area, jp_root_dir: Path) -> None:
    _, reply = await _post(jp_fetch, "search", _search_body(demo_area))
    code, saved = await _post(jp_fetch, "save", {"search_id": reply["search_id"], "path": "found.json"})
    assert code == 200 and saved == {"path": "found.json", "items": reply["returned"]}
    collection = pystac.ItemCollection.from_file(str(jp_root_dir / "found.json"))
    assert [item.id for item in collection] == [item["id"] for item in reply["items"]]
    code, error = await _error(jp_fetch, "save", {"search_id": reply["search_id"], "path": "../found.json"})
    assert code == 400 and error["parameter"] == "path"


async def test_geometry_from_a_projected_geopackage_and_a_shapefile(
    jp_fetch, demo_services, jp_root_dir: Path
) -> None:
    area = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        crs="EPSG:4326",
        geometry=[shapely.box(1.40, 43.58, 1.42, 43.60), shapely.box(1.45, 43.60, 1.47, 43.62)],
    )
    (jp_root_dir / "areas").mkdir()
    area.to_crs("EPSG:32631").to_file(jp_root_dir / "areas" / "sites.gpkg")
    area.to_file(jp_root_dir / "areas" / "sites.shp")
    for name in ("sites.gpkg", "sites.shp"):
        code, found = await _post(jp_fetch, "geometry", {"path": f"areas/{name}"})
        assert code == 200 and found["features"] == 2
        geom = shapely.geometry.shape(found["geometry"])
        assert geom.geom_type == "MultiPolygon"
        assert geom.bounds == pytest.approx((1.40, 43.58, 1.47, 43.62), abs=1e-6)
    (jp_root_dir / "notes.txt").write_text("not a map")
    for path in ("notes.txt", "missing.geojson", "../etc/passwd"):
        code, error = await _error(jp_fetch, "geometry", {"path": path})
        assert code == 400 and error["parameter"] == "geometry", path


async def test_world_outline_for_the_offline_basemap(jp_fetch) -> None:
    world = await _get(jp_fetch, "world")
    assert world["type"] == "FeatureCollection" and len(world["features"]) > 150
