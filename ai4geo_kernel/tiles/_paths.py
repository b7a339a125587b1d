"""Where a requested raster may come from: a file under a root folder, or an allow-listed URL."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from ai4geo_kernel.errors import PathNotAllowedError

__all__ = ["resolve_path", "is_remote"]


def is_remote(location: str) -> bool:
    """Whether ``location`` is an ``http(s)://`` URL."""
    return location.startswith(("http://", "https://"))


def resolve_path(root: str | os.PathLike[str], path: str, *, allowed_urls: Sequence[str] = ()) -> str:
    """The real location of ``path``, a file under ``root`` (or a URL starting with an allowed prefix).

    Parameters
    ----------
    root : str or os.PathLike
        The folder every local path must stay in (the Jupyter server's root).
    path : str
        Relative to ``root`` (``data/dsm.tif``); an absolute path is accepted only inside ``root``.
    allowed_urls : sequence of str
        URL prefixes that may be read remotely (``settings.tiles_allowed_urls()``).

    Returns
    -------
    str
        The resolved absolute file path (symlinks followed), or the URL.

    Raises
    ------
    PathNotAllowedError
        For ``..`` components, a path (or a symlink's target) outside ``root``, a URL off the
        allow-list, other schemes and GDAL virtual paths (``/vsi...``).
    FileNotFoundError
        If the path stays inside ``root`` but no file is there.
    """
    if not isinstance(path, str) or not path or "\x00" in path:
        raise PathNotAllowedError("empty or malformed path")
    if is_remote(path):
        if any(path.startswith(prefix) for prefix in allowed_urls if prefix):
            return path
        raise PathNotAllowedError(f"remote URL not in the allow-list (AI4GEO_TILES_ALLOWED_URLS): {path}")
    if "://" in path or path.startswith(("/vsi", "vsi")) or path.startswith("~"):
        raise PathNotAllowedError(f"not a path under the server root: {path}")
    if ".." in PurePosixPath(path.replace("\\", "/")).parts:
        raise PathNotAllowedError(f"'..' is not allowed in a path: {path}")
    base = Path(root).resolve()
    candidate = Path(path)
    candidate = candidate if candidate.is_absolute() else base / candidate
    real = candidate.resolve()
    if not real.is_relative_to(base):
        raise PathNotAllowedError(f"{path} is outside the server root")
    if not real.is_file():
        raise FileNotFoundError(f"no file at {path}")
    return str(real)
