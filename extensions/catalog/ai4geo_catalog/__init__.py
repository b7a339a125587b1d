"""AI4GEO catalog panel: a JupyterLab sidebar over ``ai4geo_kernel.catalog`` and its thin REST handlers.

The REST API lives under ``<base_url>ai4geo/catalog/`` (see :mod:`ai4geo_catalog.handlers`); every
handler only parses the request, calls ``ai4geo_kernel.catalog`` and serialises the answer.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "@ai4geo/catalog"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "ai4geo_catalog"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from ai4geo_catalog.handlers import setup_handlers

    setup_handlers(server_app.web_app, root_dir=server_app.root_dir)
    server_app.log.info(
        "ai4geo_catalog: REST API under %sai4geo/catalog/", server_app.web_app.settings["base_url"]
    )
