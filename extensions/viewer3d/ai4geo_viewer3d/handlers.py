"""Thin REST handlers over :class:`ai4geo_kernel.scene3d.Scene3DService`; every path is relative to the
server root (checked by the library), no URL is ever fetched."""

from __future__ import annotations

import json
from typing import Any

import tornado.ioloop
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from pyproj.exceptions import CRSError

from ai4geo_kernel.errors import http_reason, http_status
from ai4geo_kernel.scene3d import Scene3DService, SceneFrame

__all__ = ["setup_handlers"]


class _SceneHandler(APIHandler):
    """Common error mapping: outside the root 403, missing 404, bad parameters 400, unreadable 422."""

    @property
    def service(self) -> Scene3DService:
        return self.settings["ai4geo_scene3d_service"]

    def path_argument(self, name: str = "path", *, required: bool = True) -> str | None:
        path = self.get_query_argument(name, None)
        if required and not path:
            raise tornado.web.HTTPError(400, reason=f"missing '{name}'")
        return path or None

    def frame(self) -> SceneFrame:
        try:
            return SceneFrame.parse(self.get_query_argument("crs"), self.get_query_argument("origin"))
        except (ValueError, CRSError) as error:
            raise tornado.web.HTTPError(400, reason="crs and origin=x,y are required") from error

    async def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
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

    def finish_binary(self, body: bytes) -> None:
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Cache-Control", "private, max-age=600")
        self.update_api_activity()
        self.write(body)
        tornado.web.RequestHandler.finish(self)  # APIHandler.finish would label it JSON


class InfoHandler(_SceneHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish_json(await self.call(self.service.info, self.path_argument()))


class TerrainHandler(_SceneHandler):
    @tornado.web.authenticated
    async def get(self, level: str, x: str, y: str) -> None:
        path, drape, frame = self.path_argument(), self.path_argument("drape", required=False), self.frame()
        body = await self.call(self.service.terrain, path, int(level), int(x), int(y), frame, drape=drape)
        self.finish_binary(body)


class PointsHandler(_SceneHandler):
    @tornado.web.authenticated
    async def get(self, level: str, x: str, y: str) -> None:
        path, frame = self.path_argument(), self.frame()
        self.finish_binary(await self.call(self.service.points, path, int(level), int(x), int(y), frame))


class BuildingsHandler(_SceneHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path, frame = self.path_argument(), self.frame()
        self.finish_binary(await self.call(self.service.buildings, path, frame))


class MeshHandler(_SceneHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path, frame, level = self.path_argument(), self.frame(), self.get_query_argument("level", None)
        if level is not None and not (level.isascii() and level.isdigit()):
            raise tornado.web.HTTPError(400, reason="level must be a level number (info's levels)")
        body = await self.call(self.service.mesh, path, frame, None if level is None else int(level))
        self.finish_binary(body)


def setup_handlers(server_app: Any) -> None:
    """Register the handlers under ``{base_url}ai4geo/scene3d/``; files are read under the contents root."""
    web_app = server_app.web_app
    root = getattr(server_app.contents_manager, "root_dir", None) or server_app.root_dir
    web_app.settings["ai4geo_scene3d_service"] = Scene3DService(root)
    base = url_path_join(web_app.settings["base_url"], "ai4geo", "scene3d")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "info"), InfoHandler),
            (url_path_join(base, r"terrain/(\d{1,2})/(\d{1,7})/(\d{1,7})"), TerrainHandler),
            (url_path_join(base, r"points/(\d{1,2})/(\d{1,7})/(\d{1,7})"), PointsHandler),
            (url_path_join(base, "buildings"), BuildingsHandler),
            (url_path_join(base, "mesh"), MeshHandler),
        ],
    )
