"""AI4GEO 2D viewer: a JupyterLab document viewer for large rasters and its tile endpoints.

The server extension adds ``/ai4geo/tiles/...`` handlers (tile, point, info, statistics, vector,
cog) that only parse requests and call :mod:`ai4geo_kernel.tiles`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "@ai4geo/viewer2d"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "ai4geo_viewer2d"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from ai4geo_viewer2d.handlers import setup_handlers

    setup_handlers(server_app)
    server_app.log.info("ai4geo_viewer2d: tile endpoints under %sai4geo/tiles/", server_app.base_url)
