"""AI4GEO 3D viewer: a JupyterLab WebGL (deck.gl) viewer for DSMs, buildings, meshes and point clouds.

The server extension adds ``/ai4geo/scene3d/...`` handlers (info, terrain, points, buildings, mesh) that
only parse requests and call :mod:`ai4geo_kernel.scene3d`; the front-end also renders the
``application/vnd.ai4geo.scene3d+json`` outputs of :func:`ai4geo_kernel.viz.show3d`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "@ai4geo/viewer3d"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "ai4geo_viewer3d"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from ai4geo_viewer3d.handlers import setup_handlers

    setup_handlers(server_app)
    server_app.log.info("ai4geo_viewer3d: 3D endpoints under %sai4geo/scene3d/", server_app.base_url)
