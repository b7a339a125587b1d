"""The peers terrain.dtm is measured against: Bulldozer's defaults (CLI and Python API) and CSF.

Shared by ``benchmarks/bench_dtm.py`` and the ISPRS test (``tests/integration/test_terrain_isprs.py``)
so that both run the peers the same way.

- Bulldozer defaults: ``bulldozer --dsm_path DSM --output_dir OUT`` (the CLI, every parameter at its
  default), or ``dsm_to_dtm(dsm_path=..., output_dir=...)`` in-process (same result, no start-up).
- CSF (cloth simulation filter, Zhang et al. 2016, PyPI ``cloth-simulation-filter``) at its defaults
  (cloth resolution 1, rigidness 3, class threshold 0.5, slope smoothing on) on the DSM's cells as
  points (cell centres, heights); it classifies points, so the DTM is the ground cells' heights
  interpolated linearly (Delaunay, ``scipy.interpolate.griddata``) on every valid cell, nearest
  neighbour outside their hull.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio

__all__ = ["read_heights", "rmse", "bulldozer_cli_dtm", "bulldozer_api_dtm", "csf_dtm"]


def read_heights(path: str | os.PathLike[str]) -> tuple[np.ndarray, rasterio.Affine]:
    """Band 1 as float64 with nodata as NaN, and its transform."""
    with rasterio.open(path) as dataset:
        values = dataset.read(1).astype(np.float64)
        if dataset.nodata is not None and not np.isnan(dataset.nodata):
            values[values == dataset.nodata] = np.nan
        return values, dataset.transform


def rmse(dtm: np.ndarray, reference: np.ndarray) -> float:
    """Root mean square of ``dtm - reference`` over the cells where both are valid."""
    both = np.isfinite(dtm) & np.isfinite(reference)
    return float(np.sqrt(np.mean((np.asarray(dtm)[both] - np.asarray(reference)[both]) ** 2)))


def _bulldozer_executable() -> str:
    beside = Path(sys.executable).with_name("bulldozer")
    return str(beside) if beside.exists() else (shutil.which("bulldozer") or "bulldozer")


def bulldozer_cli_dtm(dsm_path: str | os.PathLike[str]) -> np.ndarray:
    """Bulldozer's CLI with every parameter at its default; its DTM as float64 with NaN."""
    with tempfile.TemporaryDirectory(prefix="bench-bulldozer-") as out:
        subprocess.run(
            [_bulldozer_executable(), "--dsm_path", str(dsm_path), "--output_dir", out],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return read_heights(Path(out) / "dtm.tif")[0]


def bulldozer_api_dtm(dsm_path: str | os.PathLike[str]) -> np.ndarray:
    """Bulldozer's Python API in this process, every parameter at its default (one worker)."""
    from bulldozer.pipeline.bulldozer_pipeline import dsm_to_dtm

    with tempfile.TemporaryDirectory(prefix="bench-bulldozer-") as out:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            dsm_to_dtm(dsm_path=str(dsm_path), output_dir=out, nb_max_workers=1)
        logging.getLogger("bulldozer").handlers.clear()
        return read_heights(Path(out) / "dtm.tif")[0]


@contextlib.contextmanager
def _quiet_fd1():
    """CSF prints from C++ straight to file descriptor 1: point it at /dev/null for the call."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def csf_dtm(dsm: np.ndarray, transform: rasterio.Affine) -> np.ndarray:
    """CSF at its defaults on the DSM cells, ground heights interpolated back onto the grid."""
    import CSF
    from scipy.interpolate import griddata

    rows, cols = np.nonzero(np.isfinite(dsm))
    xs, ys = transform * (cols + 0.5, rows + 0.5)
    points = np.column_stack([xs, ys, dsm[rows, cols]])
    cloth = CSF.CSF()
    cloth.setPointCloud(points)
    ground, off_ground = CSF.VecInt(), CSF.VecInt()
    with _quiet_fd1():
        cloth.do_filtering(ground, off_ground, exportCloth=False)
    ground = np.asarray(ground, dtype=np.int64)
    dtm = np.full(dsm.shape, np.nan)
    if ground.size == 0:
        return dtm
    known = np.column_stack([rows[ground], cols[ground]])
    wanted = np.column_stack([rows, cols])
    heights = dsm[rows[ground], cols[ground]]
    linear = griddata(known, heights, wanted, method="linear")
    nearest = griddata(known, heights, wanted, method="nearest")
    dtm[rows, cols] = np.where(np.isnan(linear), nearest, linear)
    return dtm
