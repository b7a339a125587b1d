"""Atomic file output: write to a temporary sibling, then rename it into place.

A reader never sees a half-written file at the destination: either the previous file (or nothing) or the
complete new one. On any failure the temporary file is removed and the destination is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` when the block ends without error.

    Parameters
    ----------
    path
        Final destination. Its parent folder is created when missing.
    suffix
        Suffix of the temporary file (default: the suffix of ``path``, so that drivers chosen by
        extension, such as GDAL's, pick the right format).

    Yields
    ------
    pathlib.Path
        A path in the same folder as ``path`` (so that :func:`os.replace` is atomic on POSIX). The file
        exists and is empty; the caller may overwrite or delete and re-create it.

    Notes
    -----
    Sidecar files created beside the temporary file (``.aux.xml``, ``-wal``, ``-shm``) are removed too.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=final.parent, prefix=f".{final.name}.", suffix=(final.suffix if suffix is None else suffix) + ""
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        for leftover in (tmp, *(Path(f"{tmp}{ext}") for ext in (".aux.xml", "-wal", "-shm", "-journal"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
