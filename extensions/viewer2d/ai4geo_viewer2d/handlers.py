"""Thin REST handlers over :class:`ai4geo_kernel.tiles.TileService`; paths are relative to the server root."""

from __future__ import annotations

import json
from typing import Any

import tornado.ioloop
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from ai4geo_kernel import settings
from ai4geo_kernel.errors import http_reason, http_status
from ai4geo_kernel.tiles import FORMATS, AssetRef, TileService, parse_categories

__all__ = ["setup_handlers"]


class _TilesHandler(APIHandler):
    """Common error mapping: outside root/allow-list 403, missing 404, bad parameters or a file that is not
    vector data 400, a raster GDAL cannot read (corrupt, no CRS) 422; the reason names the problem."""

    @property
    def service(self) -> TileService:
        return self.settings["ai4geo_tile_service"]

    def path_argument(self) -> str:
        path = self.get_query_argument("path", None)
        if not path:
            raise tornado.web.HTTPError(400, reason="missing 'path'")
        return path

    def raster_argument(self) -> str | AssetRef:
        """``path=...``, or a STAC item's asset: ``item=<item .json under the root | collection/item_id of
        the demo catalog>&asset=<key>``."""
        item = self.get_query_argument("item", None)
        if item is None:
            return self.path_argument()
        asset = self.get_query_argument("asset", None)
        if not item or not asset:
            raise tornado.web.HTTPError(400, reason="an item needs 'item' and 'asset'")
        return AssetRef(item=item, asset=asset)

    async def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking library call on the IO loop's executor, mapping library errors to HTTP."""
        loop = tornado.ioloop.IOLoop.current()
        try:
            return await loop.run_in_executor(None, lambda: function(*args, **kwargs))
        except Exception as error:
            status = http_status(error)  # the library's one table (ai4geo_kernel.errors)
            if status is None:
                raise
            raise tornado.web.HTTPError(status, reason=http_reason(error)) from error

    def finish_json(self, answer: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(answer, allow_nan=False, default=float))


class TileHandler(_TilesHandler):
    @tornado.web.authenticated
    async def get(self, z: str, x: str, y: str, fmt: str) -> None:
        path = self.raster_argument()
        query = {key: self.get_query_arguments(key) for key in ("bands", "rescale", "colormap")}
        query = {key: value for key, value in query.items() if value}
        categories_text = self.get_query_argument("categories", None)

        def render() -> bytes:
            style = self.service.style(path, query)
            categories = parse_categories(categories_text) if categories_text else None
            return self.service.tile(
                path, int(z), int(x), int(y), style=style, categories=categories, fmt=fmt
            )

        body = await self.call(render)
        self.set_header("Content-Type", FORMATS[fmt][1])
        self.set_header("Cache-Control", "private, max-age=600")
        self.update_api_activity()
        self.write(body)
        # APIHandler.finish would label the image application/json
        tornado.web.RequestHandler.finish(self)


class InfoHandler(_TilesHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish_json(await self.call(self.service.info, self.raster_argument()))


class PointHandler(_TilesHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            lon = float(self.get_query_argument("lon"))
            lat = float(self.get_query_argument("lat"))
        except ValueError as error:
            raise tornado.web.HTTPError(400, reason="lon and lat must be numbers") from error
        self.finish_json(await self.call(self.service.point, self.raster_argument(), lon, lat))


class StatisticsHandler(_TilesHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            text = self.get_query_argument("bands", "")
            bands = [int(part) for part in text.split(",")] if text else None
            bins = int(self.get_query_argument("bins", "64"))
        except ValueError as error:
            raise tornado.web.HTTPError(400, reason="bands and bins must be integers") from error
        path = self.raster_argument()
        self.finish_json(await self.call(self.service.statistics, path, bands=bands, bins=bins))


class VectorHandler(_TilesHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish_json(await self.call(self.service.vector, self.path_argument()))


class CogHandler(_TilesHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.get_json_body() or {}
        path = body.get("path") if isinstance(body, dict) else None
        if not isinstance(path, str) or not path:
            raise tornado.web.HTTPError(400, reason="missing 'path'")
        job = await self.call(self.service.convert_to_cog, path)
        answer = job.as_dict()
        answer["destination"] = self.service.relative(job.destination)
        self.set_status(202)
        self.finish_json(answer)


class CogJobHandler(_TilesHandler):
    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        job = self.service.job(job_id)
        if job is None:
            raise tornado.web.HTTPError(404, reason="no such job")
        answer = job.as_dict()
        answer["destination"] = self.service.relative(job.destination)
        self.finish_json(answer)


def setup_handlers(server_app: Any) -> None:
    """Register the handlers under ``{base_url}ai4geo/tiles/``; rasters are read under the contents root."""
    web_app = server_app.web_app
    root = getattr(server_app.contents_manager, "root_dir", None) or server_app.root_dir
    web_app.settings["ai4geo_tile_service"] = TileService(root, allowed_urls=settings.tiles_allowed_urls())
    base = url_path_join(web_app.settings["base_url"], "ai4geo", "tiles")
    formats = "|".join(FORMATS)
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, rf"tile/(\d{{1,2}})/(\d{{1,9}})/(\d{{1,9}})\.({formats})"), TileHandler),
            (url_path_join(base, "info"), InfoHandler),
            (url_path_join(base, "point"), PointHandler),
            (url_path_join(base, "statistics"), StatisticsHandler),
            (url_path_join(base, "vector"), VectorHandler),
            (url_path_join(base, "cog"), CogHandler),
            (url_path_join(base, r"cog/([A-Za-z0-9_-]{1,64})"), CogJobHandler),
        ],
    )
