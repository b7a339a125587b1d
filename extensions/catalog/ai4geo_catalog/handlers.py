"""REST handlers under ``/ai4geo/catalog/``: thin over :mod:`ai4geo_kernel.catalog`.

Endpoints (JSON in, JSON out; every one needs the Jupyter token and follows the XSRF rules):

``GET  providers``                      configured providers, the default first
``GET  collections?provider=``          id, title, description of each collection
``GET  queryables?provider=&collection=`` the parameters the form offers under "more parameters"
``POST search``                          run ``catalog.search(...)``; items, the cell's code, a search id
``POST download``                        start downloading items of a search into a folder under the root
``GET  download/<task>``                 per-item progress of a download
``POST save``                            write the results of a search as a STAC ItemCollection JSON file
``POST geometry``                        read a GeoJSON / GeoPackage / shapefile under the root as WGS84
``GET  world``                           a simplified world outline (Natural Earth 1:110m, from EODAG):
                                         the offline basemap of the panel

Bad parameters answer 400 ``{"message", "parameter"}``; a provider that fails answers 502
``{"message", "provider"}``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ai4geo_catalog._code import search_code

__all__ = ["setup_handlers", "PREFIX"]

PREFIX = "ai4geo/catalog"
_SEARCH_KEYS = ("provider", "bbox", "geometry", "start", "end", "cloud_cover", "limit", "query")
_KEEP_SEARCHES = 20
# EODAG is not documented as thread-safe: searches go through one worker; downloads through another.
_SEARCH_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ai4geo-catalog-search")
_DOWNLOAD_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ai4geo-catalog-download")


class BadParameter(Exception):
    """A request parameter the handler itself rejects (before the library sees it)."""

    def __init__(self, message: str, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class _State:
    """Searches kept for download / save (the last few), and download tasks."""

    def __init__(self, root_dir: str) -> None:
        self.root = Path(root_dir).expanduser().resolve()
        self.searches: OrderedDict[str, Any] = OrderedDict()
        self.downloads: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def keep(self, results: Any) -> str:
        key = uuid.uuid4().hex
        with self.lock:
            self.searches[key] = results
            while len(self.searches) > _KEEP_SEARCHES:
                self.searches.popitem(last=False)
        return key

    def results(self, search_id: Any) -> Any:
        with self.lock:
            found = self.searches.get(str(search_id))
        if found is None:
            raise BadParameter("unknown or expired search: search again", "search_id")
        return found

    def inside_root(self, relative: Any, parameter: str) -> Path:
        """``relative`` (a Lab path, '/'-separated) as a path under the server root; no escaping it."""
        if not isinstance(relative, str):
            raise BadParameter(f"{parameter} must be a path relative to the server root", parameter)
        text = relative.strip().strip("/")
        if "\x00" in text:
            raise BadParameter(f"{parameter} is not a valid path", parameter)
        target = (self.root / text).resolve()
        if target != self.root and self.root not in target.parents:
            raise BadParameter(f"{parameter}={relative!r} is outside the server root", parameter)
        return target


class _CatalogHandler(APIHandler):
    state: _State

    def initialize(self, state: _State) -> None:
        self.state = state

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as exc:
            raise BadParameter(f"the request body is not JSON: {exc}", "body") from None
        if not isinstance(data, dict):
            raise BadParameter("the request body must be a JSON object", "body")
        return data

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    async def run(self, func: Any, *args: Any, pool: ThreadPoolExecutor = _SEARCH_POOL) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, func, *args)

    async def guarded(self, coro: Any) -> None:
        """Await the handler's work; library errors become 400 / 502 with what the panel shows."""
        from ai4geo_kernel.errors import Ai4geoError, ProviderUnreachableError, http_status

        try:
            await coro
        except BadParameter as exc:
            self.reply({"message": str(exc), "parameter": exc.parameter}, 400)
        except Ai4geoError as exc:
            status = http_status(exc)  # the library's one table (ai4geo_kernel.errors)
            if status is None:
                raise
            parameter = "provider" if isinstance(exc, ProviderUnreachableError) else None
            self.reply(
                {
                    "message": str(exc),
                    "parameter": getattr(exc, "parameter", parameter),
                    "provider": getattr(exc, "provider", None),
                },
                status,
            )


class ProvidersHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> None:
            from ai4geo_kernel import catalog

            names = await self.run(catalog.providers)
            default = await self.run(catalog.gateway().resolve_provider, None)
            self.reply(
                {
                    "providers": [{"id": n, "description": _provider_description(n)} for n in names],
                    "default": default,
                }
            )

        await self.guarded(work())


def _provider_description(name: str) -> str:
    from ai4geo_kernel import catalog

    try:
        provider = catalog.gateway().dag.providers[name]
        return str(
            getattr(provider.config, "description", None) or getattr(provider, "description", "") or ""
        )
    except Exception:  # noqa: BLE001 - a description is a nicety
        return ""


class CollectionsHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> None:
            from ai4geo_kernel import catalog

            provider = self.get_query_argument("provider", None) or None
            found = await self.run(catalog.collections, provider)
            self.reply({"provider": provider, "collections": found})

        await self.guarded(work())


# What every collection offers through ai4geo_kernel.catalog.search itself.
_BASE_QUERYABLES = {
    "cloud_cover": {"title": "Max cloud cover (%)", "type": "number", "minimum": 0, "maximum": 100},
}
_SKIPPED_QUERYABLES = {
    "collection",
    "productType",
    "geom",
    "start",
    "end",
    "startTimeFromAscendingNode",
    "completionTimeFromAscendingNode",
    "geometry",
    "datetime",
    "id",
    "eo:cloud_cover",
    "cloudCover",
    "bbox",
    "intersects",
    "ids",
    "provider",
}


def _queryables(provider: str | None, collection: str) -> dict[str, Any]:
    """``cloud_cover`` plus the provider's own queryables (EODAG), as JSON-schema-like fields."""
    from ai4geo_kernel import catalog

    gw = catalog.gateway()
    chosen = gw.resolve_provider(provider)
    gw.check_collection(collection, chosen)
    fields: dict[str, Any] = dict(_BASE_QUERYABLES)
    if chosen == catalog.DEMO_PROVIDER:
        return fields  # the demo STAC API publishes no /queryables
    try:
        found = gw.dag.list_queryables(provider=chosen, collection=collection)
        schema = found.get_model().model_json_schema() if hasattr(found, "get_model") else {}
        for name, prop in (schema.get("properties") or {}).items():
            if name in _SKIPPED_QUERYABLES:
                continue
            fields[name] = {
                "title": prop.get("title", name),
                "type": prop.get("type", "string"),
                **({"enum": prop["enum"]} if "enum" in prop else {}),
            }
    except Exception:  # noqa: BLE001 - the base fields still work when a provider has no queryables
        pass
    return fields


class QueryablesHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> None:
            provider = self.get_query_argument("provider", None) or None
            collection = self.get_query_argument("collection", None)
            if not collection:
                raise BadParameter("choose a collection", "collection")
            fields = await self.run(_queryables, provider, collection)
            self.reply({"provider": provider, "collection": collection, "queryables": fields})

        await self.guarded(work())


def search_arguments(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The collection and the keyword arguments of ``catalog.search`` a panel request asks for."""
    collection = body.get("collection")
    if not isinstance(collection, str) or not collection.strip():
        raise BadParameter("choose a collection", "collection")
    kwargs = {k: body[k] for k in _SEARCH_KEYS if body.get(k) not in (None, "", [], {})}
    if "query" in kwargs and not isinstance(kwargs["query"], dict):
        raise BadParameter("query must be an object of parameter names and values", "query")
    if "limit" in kwargs:
        limit = kwargs["limit"]
        if isinstance(limit, float) and limit.is_integer():
            kwargs["limit"] = int(limit)
    return collection.strip(), kwargs


def _summary(item: Any) -> dict[str, Any]:
    data = item.to_dict(transform_hrefs=False)
    props = data.get("properties", {})
    thumbnail = None
    for key, asset in (data.get("assets") or {}).items():
        roles = asset.get("roles") or []
        if "thumbnail" in roles or "overview" in roles or key in ("thumbnail", "quicklook", "overview"):
            thumbnail = asset.get("href")
            break
    data["ai4geo:summary"] = {
        "datetime": props.get("datetime"),
        "cloud_cover": props.get("eo:cloud_cover"),
        "thumbnail": thumbnail,
    }
    return data


def _search(collection: str, kwargs: dict[str, Any], count: bool) -> dict[str, Any]:
    from ai4geo_kernel import catalog

    results = catalog.search(collection, **kwargs)
    matched = None
    if count:
        matched = (
            len(results)
            if "limit" not in kwargs
            else len(catalog.search(collection, **{k: v for k, v in kwargs.items() if k != "limit"}))
        )
    return {"results": results, "matched": matched}


class SearchHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> None:
            body = self.body()
            collection, kwargs = search_arguments(body)
            found = await self.run(_search, collection, kwargs, bool(body.get("count")))
            results = found["results"]
            search_id = self.state.keep(results)
            self.reply(
                {
                    "search_id": search_id,
                    "provider": results.provider,
                    "collection": collection,
                    "arguments": kwargs,
                    "code": search_code(collection, kwargs),
                    "returned": len(results),
                    "matched": found["matched"],
                    "items": [_summary(item) for item in results.items],
                }
            )

        await self.guarded(work())


def _download(state: _State, task_id: str, results: Any, folder: Path) -> None:
    from ai4geo_kernel import catalog
    from ai4geo_kernel.catalog import SearchResults

    task = state.downloads[task_id]
    for product in results.products:
        item_id = str(product.properties.get("id"))
        entry = task["items"][item_id]
        entry["state"] = "downloading"
        try:
            one = SearchResults([product], results.parameters, results.provider)
            paths = catalog.download(one, folder, progress=False)
            entry["state"] = "done"
            entry["path"] = paths[0].relative_to(state.root).as_posix()
        except Exception as exc:  # noqa: BLE001 - reported per item, the others go on
            entry["state"] = "error"
            entry["error"] = str(exc)
    task["state"] = "error" if any(e["state"] == "error" for e in task["items"].values()) else "done"


def _selected(results: Any, ids: Any) -> Any:
    from ai4geo_kernel.catalog import SearchResults

    if ids is None:
        return results
    if not isinstance(ids, list) or not ids:
        raise BadParameter("select at least one item", "ids")
    wanted = {str(i) for i in ids}
    products = [p for p in results.products if str(p.properties.get("id")) in wanted]
    missing = wanted - {str(p.properties.get("id")) for p in products}
    if missing:
        raise BadParameter(f"items not in this search: {', '.join(sorted(missing))}", "ids")
    return SearchResults(products, results.parameters, results.provider)


class DownloadHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> None:
            body = self.body()
            results = _selected(self.state.results(body.get("search_id")), body.get("ids"))
            folder = self.state.inside_root(body.get("folder", "downloads"), "folder")
            if folder.exists() and not folder.is_dir():
                raise BadParameter(f"{body.get('folder')!r} is a file, not a folder", "folder")
            task_id = uuid.uuid4().hex
            self.state.downloads[task_id] = {
                "task_id": task_id,
                "state": "running",
                "folder": folder.relative_to(self.state.root).as_posix(),
                "items": {
                    str(p.properties.get("id")): {"state": "queued", "path": None, "error": None}
                    for p in results.products
                },
            }
            _DOWNLOAD_POOL.submit(_download, self.state, task_id, results, folder)
            self.reply(self.state.downloads[task_id], 202)

        await self.guarded(work())


class DownloadStatusHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def get(self, task_id: str) -> None:
        async def work() -> None:
            task = self.state.downloads.get(task_id)
            if task is None:
                raise BadParameter("unknown download task", "task_id")
            self.reply(task)

        await self.guarded(work())


class SaveHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> None:
            body = self.body()
            results = _selected(self.state.results(body.get("search_id")), body.get("ids"))
            path = self.state.inside_root(body.get("path", "results.json"), "path")
            if path == self.state.root or path.is_dir():
                raise BadParameter("path must name a file, not a folder", "path")
            if not path.parent.is_dir():
                raise BadParameter(
                    f"folder {path.parent.relative_to(self.state.root)} does not exist", "path"
                )
            await self.run(results.save, path)
            self.reply({"path": path.relative_to(self.state.root).as_posix(), "items": len(results)})

        await self.guarded(work())


def _read_geometry(path: Path) -> dict[str, Any]:
    import geopandas as gpd
    import shapely
    import shapely.geometry

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises many types
        raise BadParameter(f"cannot read {path.name} as vector data: {exc}", "geometry") from None
    frame = frame[frame.geometry.notna()]
    if frame.empty:
        raise BadParameter(f"{path.name} has no geometry", "geometry")
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    geom = shapely.union_all(frame.geometry.make_valid().values)
    return {"geometry": shapely.geometry.mapping(geom), "bbox": list(geom.bounds), "features": len(frame)}


class GeometryHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def work() -> None:
            body = self.body()
            path = self.state.inside_root(body.get("path"), "geometry")
            if not path.is_file():
                raise BadParameter(f"{body.get('path')!r} is not a file", "geometry")
            found = await self.run(_read_geometry, path)
            self.reply({"path": path.relative_to(self.state.root).as_posix(), **found})

        await self.guarded(work())


_WORLD: dict[str, Any] = {}


def _world() -> dict[str, Any]:
    """Country outlines from the Natural Earth 1:110m shapefile EODAG ships (public domain), simplified."""
    if not _WORLD:
        import eodag
        import geopandas as gpd

        shp = Path(eodag.__file__).parent / "resources" / "shp" / "ne_110m_admin_0_map_units.shp"
        frame = gpd.read_file(shp, columns=[])
        frame["geometry"] = frame.geometry.simplify(0.05)
        _WORLD.update(json.loads(frame.to_json(drop_id=True)))
    return _WORLD


class WorldHandler(_CatalogHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def work() -> None:
            world = await self.run(_world, pool=_DOWNLOAD_POOL)
            self.set_header("Cache-Control", "max-age=86400")
            self.reply(world)

        await self.guarded(work())


def setup_handlers(web_app: Any, *, root_dir: str) -> None:
    """Register the handlers under ``<base_url>ai4geo/catalog/``."""
    base = url_path_join(web_app.settings["base_url"], PREFIX)
    state = _State(root_dir)
    routes = [
        ("providers", ProvidersHandler),
        ("collections", CollectionsHandler),
        ("queryables", QueryablesHandler),
        ("search", SearchHandler),
        ("download", DownloadHandler),
        (r"download/([0-9a-f]{32})", DownloadStatusHandler),
        ("save", SaveHandler),
        ("geometry", GeometryHandler),
        ("world", WorldHandler),
    ]
    web_app.add_handlers(".*$", [(url_path_join(base, path), cls, {"state": state}) for path, cls in routes])
