"""Every environment variable the library reads, in one place (the README documents each one).

Settings are read when they are used, not at import, so a notebook can change ``os.environ`` and retry.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ENV_DEMO_DIR",
    "ENV_DEMO_STAC_URL",
    "ENV_DEMO_ASSETS_URL",
    "ENV_DEFAULT_PROVIDER",
    "demo_dir",
    "demo_stac_url",
    "demo_assets_url",
    "default_provider",
    "ENV_TILES_ALLOWED_URLS",
    "tiles_allowed_urls",
]

#: Folder where the demo area is generated (default: ``$XDG_CACHE_HOME/ai4geo/demo``).
ENV_DEMO_DIR = "AI4GEO_DEMO_DIR"
#: URL of a running demo STAC API (set by ``demo.serve()`` and ``make lab`` for the kernels they start).
ENV_DEMO_STAC_URL = "AI4GEO_DEMO_STAC_URL"
#: URL of the running demo asset server (set together with ``AI4GEO_DEMO_STAC_URL``).
ENV_DEMO_ASSETS_URL = "AI4GEO_DEMO_ASSETS_URL"
#: Provider used by ``catalog.search`` when none is given (default: the demo provider when it runs).
ENV_DEFAULT_PROVIDER = "AI4GEO_PROVIDER"
#: Space-separated URL prefixes the tile server may read remote rasters from (default: none).
ENV_TILES_ALLOWED_URLS = "AI4GEO_TILES_ALLOWED_URLS"


def demo_dir() -> Path:
    """Folder of the generated demo area."""
    if os.environ.get(ENV_DEMO_DIR):
        return Path(os.environ[ENV_DEMO_DIR]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "ai4geo" / "demo"


def demo_stac_url() -> str | None:
    """URL of the running demo STAC API, or ``None`` when no demo catalog runs."""
    return os.environ.get(ENV_DEMO_STAC_URL) or None


def demo_assets_url() -> str | None:
    """URL of the running demo asset server, or ``None``."""
    return os.environ.get(ENV_DEMO_ASSETS_URL) or None


def default_provider() -> str | None:
    """Provider named by ``AI4GEO_PROVIDER``, or ``None``."""
    return os.environ.get(ENV_DEFAULT_PROVIDER) or None


def tiles_allowed_urls() -> tuple[str, ...]:
    """URL prefixes (``https://host/path/``) the tile endpoints may read remote rasters from."""
    return tuple(part for part in os.environ.get(ENV_TILES_ALLOWED_URLS, "").split() if part)
