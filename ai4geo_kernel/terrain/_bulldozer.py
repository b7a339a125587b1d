"""Bulldozer (CNES's DTM extractor, bulldozer-dtm) on one in-memory block of a DSM.

Bulldozer's Python API (``dsm_to_dtm``) reads and writes files and logs through one process-wide
logger, so a block goes through a private temporary folder and one block runs at a time in a process
(parallelism comes from Dask worker processes, one block each). Its console output (progress bars,
``print``) is captured and kept for the error message when it fails.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai4geo_kernel.errors import ConfigurationError, DTMExtractionError

__all__ = ["BulldozerParameters", "run_bulldozer", "BULLDOZER_NODATA"]

#: Nodata written into the temporary DSM given to Bulldozer (its own default for NaN inputs).
BULLDOZER_NODATA = -32768.0

# One Bulldozer run at a time in a process: its logger is global and cleared at the end of every run.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class BulldozerParameters:
    """Bulldozer's parameters, with their meaning (names are Bulldozer's own where they exist).

    Parameters
    ----------
    max_object_size
        Largest above-ground object, in metres (Bulldozer ``max_object_size``, default 16): the cloth is
        draped from a pyramid level whose pixel is about half this size, so anything wider is taken for
        terrain. Too small: large buildings stay in the DTM; too large: hills and ridges are cut.
    slope
        Largest slope of the terrain, in percent (``max_ground_slope``, default 20): with ``accuracy``,
        decides which DSM cells are "regular" (smooth enough to be ground candidates).
    accuracy
        Altimetric accuracy of the DSM, in metres (``dsm_z_accuracy``; ``None``: Bulldozer's default of
        twice the pixel size).
    ground_anchors
        Run a first cloth, take the DSM cells that touch it as ground anchors, and drape again
        (``activate_ground_anchors``).
    unhook_iterations, outer_iterations, inner_iterations
        Expert settings of the cloth: smoothing passes before draping (``prevent_unhook_iter``, 10),
        gravity steps (``num_outer_iter``, 25) and tension passes per step (``num_inner_iter``, 5).
    """

    max_object_size: float = 16.0
    slope: float = 20.0
    accuracy: float | None = None
    ground_anchors: bool = False
    unhook_iterations: int = 10
    outer_iterations: int = 25
    inner_iterations: int = 5

    def __post_init__(self) -> None:
        for name in ("max_object_size", "slope"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"{name} must be a positive number, got {value!r}")
        if self.accuracy is not None and (
            isinstance(self.accuracy, bool)
            or not isinstance(self.accuracy, int | float)
            or not self.accuracy > 0
        ):
            raise ConfigurationError(
                f"accuracy must be a positive number of metres or None, got {self.accuracy!r}"
            )
        for name in ("unhook_iterations", "outer_iterations", "inner_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")

    def as_dict(self) -> dict[str, Any]:
        """The parameters by their names here."""
        return asdict(self)

    def bulldozer_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``bulldozer.pipeline.bulldozer_pipeline.dsm_to_dtm``."""
        kwargs: dict[str, Any] = {
            "max_object_size": float(self.max_object_size),
            "max_ground_slope": float(self.slope),
            "activate_ground_anchors": bool(self.ground_anchors),
            "prevent_unhook_iter": int(self.unhook_iterations),
            "num_outer_iter": int(self.outer_iterations),
            "num_inner_iter": int(self.inner_iterations),
        }
        if self.accuracy is not None:
            kwargs["dsm_z_accuracy"] = float(self.accuracy)
        return kwargs


def run_bulldozer(dsm: np.ndarray, resolution: float, parameters: BulldozerParameters) -> np.ndarray:
    """The DTM Bulldozer extracts from one DSM block held in memory.

    Parameters
    ----------
    dsm
        2D heights (metres), NaN for nodata.
    resolution
        Pixel size in metres (Bulldozer converts ``max_object_size`` and ``slope`` to pixels with it).
    parameters
        Bulldozer's parameters.

    Returns
    -------
    numpy.ndarray
        float32 DTM of the same shape, NaN where Bulldozer leaves nodata (the DSM's outer nodata border).

    Raises
    ------
    DTMExtractionError
        When Bulldozer fails; the message ends with the tail of its output.
    """
    import rasterio
    from affine import Affine
    from bulldozer.pipeline.bulldozer_pipeline import dsm_to_dtm

    block = np.where(np.isfinite(dsm), dsm, BULLDOZER_NODATA).astype(np.float32)
    # Only the pixel size matters to Bulldozer; any metric grid (not the identity, which GDAL warns about).
    profile = {
        "driver": "GTiff",
        "width": block.shape[1],
        "height": block.shape[0],
        "count": 1,
        "dtype": "float32",
        "nodata": BULLDOZER_NODATA,
        "transform": Affine(resolution, 0.0, 500000.0, 0.0, -resolution, 5000000.0),
        "crs": "EPSG:32631",
    }
    console = io.StringIO()
    logger = logging.getLogger("bulldozer")
    with _LOCK, tempfile.TemporaryDirectory(prefix="ai4geo-bulldozer-") as folder:
        # Its DEBUG records (parameters, machine description) would reach the application's handlers.
        propagate, logger.propagate = logger.propagate, False
        source = Path(folder) / "dsm.tif"
        with rasterio.open(source, "w", **profile) as dataset:
            dataset.write(block, 1)
        try:
            with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
                dsm_to_dtm(
                    dsm_path=str(source),
                    output_dir=str(Path(folder) / "out"),
                    nb_max_workers=1,  # no process pool: Dask runs the blocks in parallel
                    **parameters.bulldozer_kwargs(),
                )
            with rasterio.open(Path(folder) / "out" / "dtm.tif") as dataset:
                dtm = dataset.read(1).astype(np.float32)
                nodata = dataset.nodata
        except Exception as error:  # Bulldozer raises bare ValueError/KeyError/OSError...
            tail = "\n".join(console.getvalue().strip().splitlines()[-15:])
            raise DTMExtractionError(
                f"Bulldozer failed on a {block.shape[0]} x {block.shape[1]} block: {error}\n{tail}"
            ) from error
        finally:
            logger.propagate = propagate
    if nodata is not None:
        dtm[dtm == nodata] = np.nan
    return dtm
