"""DTM from a DSM: Bulldozer's cloth, ground refinement around it, tiled over Dask for large DSMs."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ai4geo_kernel.errors import ConfigurationError, DTMExtractionError, EmptyRasterError
from ai4geo_kernel.terrain._bulldozer import BulldozerParameters, run_bulldozer
from ai4geo_kernel.terrain._ground import edge_sharpness, noise_sigma, refine_ground
from ai4geo_kernel.terrain._output import compute_with_progress, write_raster
from ai4geo_kernel.terrain._surface import SurfaceInput, as_surface, resolution_of

__all__ = ["DtmSettings", "dtm", "dtm_settings", "DEFAULT_TILE_SIZE"]

#: Side (pixels) of the square tiles a large DSM is cut into. 1024 x 1024 float32 is 4 MiB and Bulldozer
#: holds about ten copies of its block; the ground refinement costs more than linearly in the block size
#: (a 1280 x 1280 DSM took 10 s whole and 6 s as 512-pixel tiles with their overlap), while overlap
#: adds (1 + 2 overlap / tile)^2 of work: 1024 with the default 128-pixel overlap reads 1.56x the DSM.
DEFAULT_TILE_SIZE = 1024


#: Edge sharpness under which a DSM's object edges are ramps rather than walls (halfway between the
#: 0.45 of a stereo DSM and the 0.73-0.97 of LiDAR and exact DSMs; see :func:`edge_sharpness`).
SHARP_EDGES = 0.6


@dataclass(frozen=True)
class DtmSettings:
    """Every setting of one DTM extraction, as chosen by :func:`dtm_settings` (stored in the result's attrs).

    Parameters
    ----------
    bulldozer
        Bulldozer's own parameters.
    resolution
        Pixel size of the DSM (metres).
    noise
        Estimated height noise of the DSM (metres, one standard deviation).
    edge_sharpness
        Median share of an object edge's rise made in one step (1: walls; see
        :func:`ai4geo_kernel.terrain.edge_sharpness`); ``None`` when the DSM shows no edge.
    ground_tolerance
        Height above the cloth within which a DSM cell counts as ground in the refinement (metres).
    refine_iterations
        Most passes of ground refinement (0: Bulldozer's DTM, only kept under the DSM).
    tile_size
        Side of the tiles (pixels) of a DSM larger than one tile.
    overlap
        Pixels each tile reads beyond its edges and throws away, so that no seam shows.
    """

    bulldozer: BulldozerParameters
    resolution: float
    noise: float
    edge_sharpness: float | None
    ground_tolerance: float
    refine_iterations: int
    tile_size: int
    overlap: int

    def as_attrs(self) -> dict[str, Any]:
        """Flat attributes (numbers and strings) for a DataArray or a GeoTIFF's tags."""
        attrs = {
            f"bulldozer_{key}": value for key, value in self.bulldozer.as_dict().items() if value is not None
        }
        attrs.update(
            resolution=self.resolution,
            noise=self.noise,
            edge_sharpness=-1.0 if self.edge_sharpness is None else self.edge_sharpness,
            ground_tolerance=self.ground_tolerance,
            refine_iterations=self.refine_iterations,
            tile_size=self.tile_size,
            overlap=self.overlap,
        )
        return {key: (int(value) if isinstance(value, bool) else value) for key, value in attrs.items()}


def _positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> None:
    kind = int if integer else (int, float)
    ok = not isinstance(value, bool) and isinstance(value, kind) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ConfigurationError(
            f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
            f"{'integer' if integer else 'number'}, got {value!r}"
        )


def dtm_settings(
    dsm: SurfaceInput,
    *,
    max_object_size: float | None = None,
    slope: float | None = None,
    accuracy: float | None = None,
    ground_anchors: bool = False,
    ground_tolerance: float | None = None,
    refine_iterations: int | None = None,
    tile_size: int = DEFAULT_TILE_SIZE,
    overlap: int | None = None,
) -> DtmSettings:
    """The settings :func:`dtm` uses on a DSM: each one as given, or chosen from its resolution and content.

    Parameters are those of :func:`dtm`. The noise is estimated on the first tile of a lazy DSM.
    """
    surface = as_surface(dsm)
    resolution = resolution_of(surface)
    _positive("tile_size", tile_size, integer=True)
    if tile_size < 64:
        raise ConfigurationError(f"tile_size must be at least 64 pixels, got {tile_size}")
    # The noise of the central tile (a lazy DSM is not read whole for it; its edges may be nodata).
    rows, cols = surface.shape
    top, left = max(0, (rows - tile_size) // 2), max(0, (cols - tile_size) // 2)
    sample = surface.isel(y=slice(top, top + tile_size), x=slice(left, left + tile_size)).values
    noise = noise_sigma(sample)
    sharpness = edge_sharpness(sample)
    bulldozer = BulldozerParameters(
        max_object_size=16.0 if max_object_size is None else max_object_size,
        slope=20.0 if slope is None else slope,
        accuracy=accuracy,
        ground_anchors=bool(ground_anchors),
    )
    if ground_tolerance is None:
        # Three deviations of the DSM's own noise keep 99.7 % of noisy ground cells; half a pixel is
        # the height a 100 % slope spans inside a cell's half width (a highest-return or a matched
        # height sits anywhere in the cell), and the floor below which nothing is gained.
        ground_tolerance = max(3.0 * noise, 0.5 * resolution)
    _positive("ground_tolerance", ground_tolerance)
    if refine_iterations is None:
        if sharpness is not None and sharpness < SHARP_EDGES:
            # The refinement trusts the DSM on the cells it takes for ground. Where object edges are
            # ramps (stereo matching spreads a roof's height over the street beside it), those cells
            # are too high next to every object and the refined DTM would climb them: measured on
            # CARS's DSM of the demo pair, 1.97 m RMSE against 1.59 m for the cloth alone. Keep the cloth.
            refine_iterations = 0
        else:
            # Ground grows about one cell a pass across a terrain edge the cloth blurred, and the
            # cloth blurs over about max_object_size (it is draped from a level whose pixel is half
            # of it, then upsampled): as many passes as max_object_size has pixels reach its far side.
            refine_iterations = int(math.ceil(bulldozer.max_object_size / resolution))
    _positive("refine_iterations", refine_iterations, integer=True, allow_zero=True)
    if overlap is None:
        # Bulldozer drapes from a pyramid level whose pixel is about max_object_size / 2 and the
        # refinement carries corrections max_object_size far, so a cell's DTM depends on the DSM a few
        # object sizes around it. Measured on the 1280 x 1280 demo DSM in 512-pixel tiles: 2, 4 and 8
        # object sizes (32, 64, 128 px) left RMS differences to the whole DTM of 6.5, 3.6 and 1.1 mm
        # and largest ones of 0.97, 0.79 and 0.08 m; eight object sizes it is (tests/integration/
        # test_terrain_demo.py asserts the seam error).
        overlap = int(math.ceil(8 * bulldozer.max_object_size / resolution))
    _positive("overlap", overlap, integer=True, allow_zero=True)
    return DtmSettings(
        bulldozer=bulldozer,
        resolution=resolution,
        noise=noise,
        edge_sharpness=sharpness,
        ground_tolerance=float(ground_tolerance),
        refine_iterations=int(refine_iterations),
        tile_size=int(tile_size),
        overlap=int(overlap),
    )


def _dtm_block(block: np.ndarray, settings: DtmSettings, *, progress: bool = False) -> np.ndarray:
    """The DTM of one block held in memory (a whole DSM or a tile with its overlap).

    ``progress`` shows a bar over Bulldozer's run and the refinement passes (for a DSM run whole).
    """
    block = np.asarray(block, dtype=np.float32)
    valid = np.isfinite(block)
    if not valid.any():  # a tile entirely outside the data: nothing to extract
        return np.full(block.shape, np.nan, dtype=np.float32)
    bar = tqdm(total=1 + settings.refine_iterations, desc="DTM: Bulldozer", disable=not progress, leave=False)
    try:
        cloth = run_bulldozer(block, settings.resolution, settings.bulldozer)
        bar.update()
        bar.set_description_str("DTM: ground refinement")
        return _checked_refinement(block, valid, cloth, settings, bar.update)
    finally:
        bar.close()


def _checked_refinement(
    block: np.ndarray,
    valid: np.ndarray,
    cloth: np.ndarray,
    settings: DtmSettings,
    on_pass: Callable[[], None],
) -> np.ndarray:
    """Refuse an all-nodata cloth, then refine it onto the ground."""
    if not np.isfinite(cloth).any():
        # Seen with max_object_size=50 on small DSMs: Bulldozer returns all nodata and no error.
        raise DTMExtractionError(
            f"Bulldozer returned a DTM with no valid cell from a DSM block with {int(valid.sum())} valid "
            f"cells ({block.shape[0]} x {block.shape[1]} pixels); max_object_size="
            f"{settings.bulldozer.max_object_size} m may be too large for it: try a smaller one (or a "
            f"larger tile_size)"
        )
    return refine_ground(
        block,
        cloth,
        tolerance=settings.ground_tolerance,
        iterations=settings.refine_iterations,
        search_distance=settings.bulldozer.max_object_size / settings.resolution,
        on_pass=on_pass,
    )


def dtm(
    dsm: SurfaceInput,
    *,
    max_object_size: float | None = None,
    slope: float | None = None,
    accuracy: float | None = None,
    ground_anchors: bool = False,
    ground_tolerance: float | None = None,
    refine_iterations: int | None = None,
    tile_size: int = DEFAULT_TILE_SIZE,
    overlap: int | None = None,
    output: str | os.PathLike[str] | None = None,
    client: Any = None,
    progress: bool = True,
) -> xr.DataArray:
    """Digital terrain model of a DSM: Bulldozer's drape cloth, refined onto the ground the DSM shows.

    Bulldozer (CNES, ``bulldozer-dtm``) drapes a cloth under the DSM from a coarse pyramid level whose
    pixel is about half ``max_object_size``; objects narrower than that are lifted off the terrain.
    Around it this function (1) estimates the DSM's noise, (2) keeps the cloth under the DSM and
    refines it onto the DSM cells within ``ground_tolerance`` of it, carrying the correction under the
    objects (a cloth's tension cuts ridges and hill tops), and (3) refuses an all-nodata result
    (Bulldozer returns one with no error when ``max_object_size`` is too large for the DSM). A DSM
    larger than one tile is cut into ``tile_size`` tiles read with ``overlap`` pixels around them
    (``dask.array.map_overlap``) and computed on the Dask cluster.

    Parameters
    ----------
    dsm
        Digital surface model: an ``xarray.DataArray`` with a CRS (rioxarray) or the path of a GeoTIFF;
        heights in metres on a projected grid with square pixels. A Dask-backed DataArray stays lazy.
    max_object_size
        Largest above-ground object (building, group of trees), in metres (default: Bulldozer's 16 m).
    slope
        Largest terrain slope, in percent (default: Bulldozer's 20 %); it matters only when
        ``slope * resolution / 100`` exceeds ``accuracy``.
    accuracy
        Altimetric accuracy of the DSM, in metres (default: Bulldozer's, twice the pixel size).
    ground_anchors
        Bulldozer's two-pass mode with ground anchors.
    ground_tolerance
        Height above the cloth within which a DSM cell counts as ground when refining (metres; default:
        the larger of three times the DSM's estimated noise and half a pixel).
    refine_iterations
        Most passes of ground refinement, each growing the ground by about a cell across terrain edges
        (default: ``max_object_size`` in pixels, or 0 for a DSM whose object edges are ramps rather
        than walls, as stereo DSMs have; 0 gives Bulldozer's DTM, kept under the DSM).
    tile_size
        Side of the tiles, in pixels, for a DSM larger than one tile.
    overlap
        Pixels read around each tile and thrown away (default: eight times ``max_object_size``).
    output
        Also write the DTM there as a Cloud-Optimized GeoTIFF, atomically (a lazy DTM is streamed to
        it tile by tile and the result is then read back lazily from it).
    client
        A ``distributed.Client`` to run the tiles on (default: :func:`ai4geo_kernel.compute.current_client`,
        else Dask's local threads).
    progress
        Show a progress bar while tiles are computed.

    Returns
    -------
    xarray.DataArray
        ``dtm`` on the DSM's grid (same coordinates, CRS and transform), float32 metres, NaN for nodata;
        its attrs hold the settings used (see :func:`dtm_settings`). Lazy when ``dsm`` was lazy and no
        ``output`` was given: the checks then run when it is computed.

    Raises
    ------
    MissingCRSError
        When the DSM has no CRS.
    EmptyRasterError
        When every cell of an in-memory DSM is nodata.
    DTMExtractionError
        When Bulldozer fails or returns no valid cell where the DSM had some.
    ConfigurationError
        When a parameter is out of its range.

    Examples
    --------
    >>> from ai4geo_kernel import terrain
    >>> dtm = terrain.dtm("dsm.tif", output="dtm.tif")                  # doctest: +SKIP
    >>> dhm = terrain.dhm("dsm.tif", dtm)                               # doctest: +SKIP
    """
    surface = as_surface(dsm, chunks=tile_size if isinstance(dsm, str | os.PathLike) else None)
    settings = dtm_settings(
        surface,
        max_object_size=max_object_size,
        slope=slope,
        accuracy=accuracy,
        ground_anchors=ground_anchors,
        ground_tolerance=ground_tolerance,
        refine_iterations=refine_iterations,
        tile_size=tile_size,
        overlap=overlap,
    )
    lazy = surface.chunks is not None
    if isinstance(dsm, str | os.PathLike) and surface.size <= tile_size * tile_size:
        surface, lazy = surface.load(), False  # a small file: read it whole
    if not lazy and not np.isfinite(surface.values).any():
        raise EmptyRasterError(
            "every cell of the DSM is nodata: there is no surface to extract a terrain from"
        )
    if not lazy and max(surface.shape) <= tile_size:
        values = _dtm_block(surface.values, settings, progress=progress)
    else:
        import dask.array as da

        data = surface.data if lazy else da.from_array(surface.values, chunks=tile_size)
        data = data.rechunk(tile_size, balance=True)
        depth = min(settings.overlap, *data.shape)
        values = da.map_overlap(
            _dtm_block,
            data,
            depth=depth,
            boundary="none",
            dtype=np.float32,
            settings=settings,
            meta=np.array((), dtype=np.float32),
        )
        if not lazy:
            values = compute_with_progress(values, client=client, progress=progress)
            if not np.isfinite(values).any():
                raise DTMExtractionError("the DTM has no valid cell although the DSM has some")
    result = xr.DataArray(values, coords=surface.coords, dims=surface.dims, name="dtm", attrs={})
    result = result.rio.write_crs(surface.rio.crs).rio.write_transform(surface.rio.transform())
    result = result.rio.write_nodata(np.nan, encoded=False)
    result.attrs.update(settings.as_attrs(), units="m", long_name="digital terrain model")
    if output is not None:
        path = write_raster(result, Path(output), client=client, progress=progress)
        if lazy:
            result = as_surface(path, name="dtm", chunks=tile_size)
            result.attrs.update(settings.as_attrs(), units="m", long_name="digital terrain model")
    return result
