"""Running a lazy terrain computation with a progress bar, and writing its result as a COG atomically."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ai4geo_kernel.errors import EmptyRasterError
from ai4geo_kernel.io import atomic_path, write_cog

__all__ = ["compute_with_progress", "write_raster"]


def _client(client: Any) -> Any:
    if client is not None:
        return client
    from ai4geo_kernel.compute import current_client

    return current_client()


def compute_with_progress(collection: Any, *, client: Any = None, progress: bool = True) -> Any:
    """Compute a Dask collection, or a list of them in one graph, on ``client`` (default: the current
    cluster, else local threads); a list gives a list of results.

    The progress bar is ``distributed.progress`` on a cluster (a widget in a notebook, text in a
    terminal), ``dask.diagnostics.ProgressBar`` on the local scheduler.
    """
    import dask

    many = isinstance(collection, list)
    collections = collection if many else [collection]
    dask_client = _client(client)
    if dask_client is not None:
        futures = dask_client.compute(collections)
        if progress:
            from distributed import progress as distributed_progress

            distributed_progress(futures)
        results = dask_client.gather(futures)
    else:
        from dask.diagnostics import ProgressBar

        with ProgressBar(minimum=1.0) if progress else contextlib.nullcontext():
            results = list(dask.compute(*collections))
    return results if many else results[0]


def write_raster(raster: xr.DataArray, path: Path, *, client: Any = None, progress: bool = True) -> Path:
    """Write a 2D DataArray as a Cloud-Optimized GeoTIFF at ``path``, atomically.

    An in-memory raster goes through :func:`ai4geo_kernel.io.write_cog`. A Dask-backed one is never
    held whole in memory: its blocks are stored into a tiled GeoTIFF in a temporary folder beside
    ``path`` (rioxarray, one writer at a time under a lock), then GDAL's COG driver copies that file to
    a temporary sibling renamed onto ``path``. Its valid cells are counted in the same pass.

    Raises
    ------
    EmptyRasterError
        When every cell is nodata (nothing is written then).
    """
    if raster.chunks is None:
        return write_cog(raster, path, nodata=float("nan"))
    import dask.array as da
    import rasterio.shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dask_client = _client(client)
    if dask_client is not None:
        from distributed import Lock

        lock: Any = Lock(f"ai4geo-terrain-write-{secrets.token_hex(4)}")  # held through the scheduler
    else:
        lock = threading.Lock()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder:
        tiled = Path(folder) / "tiled.tif"
        store = raster.astype(np.float32).rio.to_raster(
            tiled, tiled=True, blockxsize=512, blockysize=512, compress="deflate", lock=lock, compute=False
        )
        valid = da.isfinite(raster.data).sum()
        _, count = compute_with_progress([store, valid], client=dask_client, progress=progress)
        if int(count) == 0:
            raise EmptyRasterError(
                f"every cell of the {raster.name or 'raster'} is nodata: {path} not written"
            )
        with atomic_path(path, suffix=".tif") as tmp:
            rasterio.shutil.copy(
                tiled,
                tmp,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="YES",
                BLOCKSIZE=512,
                OVERVIEW_RESAMPLING="AVERAGE",
                BIGTIFF="IF_SAFER",
            )
    return path
