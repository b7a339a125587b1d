"""The kernel-side tile server: XYZ PNG tiles of registered layers, on 127.0.0.1 only."""

from __future__ import annotations

import logging
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ai4geo_kernel.errors import ConfigurationError, ServiceError
from ai4geo_kernel.tiles._geometry import is_valid_tile
from ai4geo_kernel.tiles._rendering import render_png, transparent_png
from ai4geo_kernel.tiles._sources import TileSource
from ai4geo_kernel.tiles._style import TileStyle, parse_style_query, style_query
from ai4geo_kernel.viz._address import browser_tile_root
from ai4geo_kernel.viz._layers import Layer, LayerRegistry

__all__ = ["TileServer", "tile_server", "HOST"]

logger = logging.getLogger(__name__)

#: The only interface the server listens on.
HOST = "127.0.0.1"

#: ``/tiles/<layer id>/<z>/<x>/<y>.png``; the raw path is matched, before any percent-decoding.
_TILE_PATH = re.compile(
    r"/tiles/(?P<layer>[A-Za-z0-9_-]{1,64})/(?P<z>\d{1,2})/(?P<x>\d{1,9})/(?P<y>\d{1,9})\.png"
)


class _TileRequestHandler(BaseHTTPRequestHandler):
    """Answers tile requests; everything else is 404."""

    protocol_version = "HTTP/1.1"  # keep-alive: a map view fetches dozens of tiles per connection
    # headers and body leave in two writes: with Nagle on, the body waits for the client's delayed ACK
    disable_nagle_algorithm = True
    server: _TileHTTPServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        match = _TILE_PATH.fullmatch(parts.path)
        layer = self.server.registry.get(match["layer"]) if match else None
        if match is None or layer is None:
            self._answer(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        z, x, y = int(match["z"]), int(match["x"]), int(match["y"])
        if not is_valid_tile(z, x, y):
            self._answer(HTTPStatus.BAD_REQUEST, b"no such tile\n", "text/plain")
            return
        try:
            style = parse_style_query(
                parse_qs(parts.query, keep_blank_values=True), layer.style, layer.source.count
            )
        except ConfigurationError as error:
            self._answer(HTTPStatus.BAD_REQUEST, f"{error}\n".encode(), "text/plain")
            return
        try:
            body = self.server.render(layer, style, z, x, y)
        except Exception:
            logger.exception("tile %s/%s/%s of layer %s failed", z, x, y, layer.name)
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, b"tile rendering failed\n", "text/plain")
            return
        self._answer(HTTPStatus.OK, body, "image/png", cache=True)

    def _answer(self, status: HTTPStatus, body: bytes, content_type: str, *, cache: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # a layer id names immutable content, so browsers may keep its tiles
        self.send_header("Cache-Control", "private, max-age=3600" if cache else "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        logger.debug("%s " + format, self.address_string(), *args)


class _TileHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, registry: LayerRegistry) -> None:
        super().__init__((HOST, 0), _TileRequestHandler)
        self.registry = registry

    def render(self, layer: Layer, style: TileStyle, z: int, x: int, y: int) -> bytes:
        image = layer.source.tile(x, y, z, bands=style.bands)
        if image is None:
            return transparent_png()
        return render_png(image, rescale=layer.rescale_for(style), colormap=style.colormap)


class TileServer:
    """XYZ tile server of this kernel, bound to 127.0.0.1 on a port the OS chooses.

    Tile URLs carry only an opaque layer id registered in this process by :meth:`add_layer`
    (never a file path or remote URL); unknown ids answer 404, tiles outside a layer a
    transparent PNG, malformed parameters 400.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT``.
    registry : LayerRegistry
        The layers served.
    """

    def __init__(self) -> None:
        self.registry = LayerRegistry()
        try:
            self._httpd = _TileHTTPServer(self.registry)
        except OSError as error:
            raise ServiceError(f"the tile server could not listen on {HOST}: {error}") from error
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="ai4geo-tile-server",
            daemon=True,
        )
        self._thread.start()
        self._stopped = False

    @property
    def running(self) -> bool:
        """Whether the server still answers."""
        return not self._stopped and self._thread.is_alive()

    def add_layer(self, source: TileSource, style: TileStyle, *, name: str | None = None) -> Layer:
        """Register a layer and return it (its ``id`` goes in the tile URL)."""
        return self.registry.add(source, style, name=name)

    def remove_layer(self, layer_id: str) -> bool:
        """Stop serving a layer and close its files."""
        return self.registry.remove(layer_id)

    @property
    def browser_url(self) -> str:
        """Where the browser reaches this server: ``{base_url}proxy/PORT`` through the Jupyter server the
        kernel runs under (works behind a JupyterHub prefix and from another machine), else :attr:`url`."""
        return browser_tile_root(self.port, self.url)

    def tile_url(self, layer: Layer) -> str:
        """Leaflet URL template of ``layer``, with its bands, ranges and colormap in the query."""
        query = style_query(layer.style, layer.rescale_for(layer.style))
        return f"{self.browser_url}/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.png?{query}"

    def stop(self) -> None:
        """Stop answering, close every layer's files; maps built on this server lose their tiles."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self.registry.clear()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TileServer {self.url} {state}, {len(self.registry)} layer(s)>"


_lock = threading.Lock()
_server: TileServer | None = None


def tile_server() -> TileServer:
    """The tile server of this process, started on first use (and again after :meth:`TileServer.stop`)."""
    global _server
    with _lock:
        if _server is None or not _server.running:
            _server = TileServer()
        return _server
