"""Generate the demo area: every raster, vector and STAC file, deterministically, atomically, once.

:func:`generate` writes into a hidden sibling of the destination and renames it into place at the end;
the manifest (``manifest.json``) is the last file written, so a folder with a manifest is complete.
A second call with the same seed, scale and generator version returns the existing area at once.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
from pathlib import Path

from ai4geo_kernel.demo._area import (
    GENERATOR_VERSION,
    MANIFEST_NAME,
    DemoArea,
    KnownChange,
    load,
    read_manifest,
)
from ai4geo_kernel.demo._grid import area_grid
from ai4geo_kernel.demo._layout import (
    CATALOG_ID,
    COLLECTION_ELEVATION,
    COLLECTION_S1,
    COLLECTION_S2,
    COLLECTION_STEREO,
    COLLECTION_TRUTH,
    COLLECTION_VHR,
    COLLECTIONS,
)
from ai4geo_kernel.errors import ConfigurationError
from ai4geo_kernel.settings import demo_dir

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "COLLECTION_VHR",
    "COLLECTION_ELEVATION",
    "COLLECTION_S2",
    "COLLECTION_S1",
    "COLLECTION_TRUTH",
    "COLLECTION_STEREO",
    "COLLECTIONS",
    "KnownChange",
    "DemoArea",
    "generate",
    "load",
]


def _check(seed: int, scale: float) -> tuple[int, float]:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= int(seed) < 2**32:
        raise ConfigurationError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise ConfigurationError(f"scale must be a finite number, got {scale!r}")
    area_grid(float(scale))  # raises ConfigurationError when out of range
    return int(seed), float(scale)


def _is_replaceable(dest: Path) -> bool:
    """Whether an existing ``dest`` may be replaced: an empty folder or a folder the generator wrote."""
    if not dest.exists():
        return True
    if not dest.is_dir():
        return False
    if not any(dest.iterdir()):
        return True
    if read_manifest(dest) is not None:
        return True
    try:
        catalog = json.loads((dest / "catalog.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(catalog, dict) and catalog.get("id") == CATALOG_ID


def _swap_into_place(staging: Path, dest: Path) -> None:
    """Rename the finished ``staging`` folder to ``dest``, replacing a previous area."""
    if not dest.exists():
        os.replace(staging, dest)
        return
    retired = dest.parent / f".ai4geo-demo-retired-{os.getpid()}-{secrets.token_hex(4)}"
    os.replace(dest, retired)
    try:
        os.replace(staging, dest)
    except BaseException:
        os.replace(retired, dest)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def generate(
    dest: str | os.PathLike[str] | None = None,
    *,
    seed: int = 0,
    scale: float = 1.0,
    force: bool = False,
    progress: bool = True,
) -> DemoArea:
    """Generate the demo area over Toulouse (or return the one already there).

    Parameters
    ----------
    dest
        Folder of the area (default: :func:`ai4geo_kernel.settings.demo_dir`, ``$AI4GEO_DEMO_DIR``).
    seed
        Seed of every random draw: the same seed, scale and generator version give identical rasters.
    scale
        Linear size: the area is about ``1280 * scale`` metres on a side (1.0: 1280 m; 4.0: the
        "benchmark" area of 5120 m).
    force
        Regenerate even when ``dest`` already holds this area.
    progress
        Show a progress bar over the generation steps.

    Returns
    -------
    DemoArea

    Raises
    ------
    ConfigurationError
        When ``seed`` or ``scale`` is invalid, or ``dest`` exists and is not a demo area (it is never
        overwritten then).

    Notes
    -----
    The area is written into a hidden sibling folder and renamed to ``dest`` only once complete (the
    manifest is its last file): an interrupted generation leaves no partial area at ``dest``.
    """
    seed, scale = _check(seed, scale)
    target = Path(dest if dest is not None else demo_dir()).expanduser().absolute()
    if not force:
        existing = load(target)
        if existing is not None and (existing.seed, existing.scale, existing.generator_version) == (
            seed,
            scale,
            GENERATOR_VERSION,
        ):
            return existing
    if not _is_replaceable(target):
        raise ConfigurationError(f"{target} exists and is not a demo area: refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    # No dot after the leading one: pystac takes a folder whose name has an "extension" for a file.
    staging = target.parent / f".ai4geo-demo-staging-{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        from ai4geo_kernel.demo._build import build_area  # heavy: numpy, scipy, rasterio, geopandas, pystac

        build_area(staging, seed, scale, progress)
        _swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    area = load(target)
    if area is None:  # pragma: no cover - the manifest was just written
        raise ConfigurationError(f"the demo area at {target} could not be read back")
    return area
