"""Sensor images and their RPC models: where the model lies, what it says, and checks before matching.

An RPC model comes in three forms in practice: TIFF tags of the image (or GDAL sidecars ``.RPB`` /
``_rpc.txt``), a DIMAP XML file (Pleiades, SPOT: ``RPC_*.XML``), or an OSSIM keyword list (``.geom``).
shareloc (CNES's geometry library, the one CARS itself uses) reads all three; this module finds the file,
reads it through shareloc, and computes the image's footprint on the ground with GDAL's RPC transformer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from rasterio.rpc import RPC
from rasterio.transform import RPCTransformer

from ai4geo_kernel.errors import BandCountError, MissingRPCError, NonOverlappingPairError

__all__ = ["SensorImage", "sensor_image", "read_rpc", "footprint", "check_pair"]


@dataclass(frozen=True)
class SensorImage:
    """A sensor image (in acquisition geometry) and the file that holds its RPC model.

    Attributes
    ----------
    image
        The image file (one band).
    geomodel
        The RPC model: the image itself (TIFF tags, GDAL sidecars), a DIMAP XML or an OSSIM ``.geom``.
    """

    image: Path
    geomodel: Path


def _candidates(image: Path) -> list[Path]:
    """Sidecar RPC files of ``image``, most specific first."""
    found = [image.with_suffix(".geom"), image.with_suffix(".GEOM")]
    found += sorted(image.parent.glob("RPC_*.XML")) + sorted(image.parent.glob("RPC_*.xml"))
    return [path for path in found if path.is_file()]


def read_rpc(geomodel: str | os.PathLike[str]) -> RPC:
    """Read an RPC model from TIFF tags / GDAL sidecars, DIMAP XML or an OSSIM ``.geom`` keyword list.

    Parameters
    ----------
    geomodel
        The file holding the model.

    Returns
    -------
    rasterio.rpc.RPC
        The model, in GDAL's (pixel-centre) convention.

    Raises
    ------
    MissingRPCError
        When the file holds no RPC model shareloc or GDAL can read.
    """
    path = Path(geomodel)
    if path.suffix.lower() in {".tif", ".tiff", ".jp2", ".ntf"}:
        with rasterio.open(path) as src:
            if src.rpcs is None:
                raise MissingRPCError(
                    f"{path} has no RPC model (no RPC TIFF tags, no .RPB or _rpc.txt sidecar)"
                )
            return src.rpcs
    # shareloc's readers know DIMAP v1/v2/v3 and OSSIM keyword lists; import late (numba, C++ bindings).
    from shareloc.geomodels.rpc_readers import rpc_reader
    from shareloc.geomodels.rpc_writers import rpc_dict_to_rio_rpcs

    try:
        params = rpc_reader(str(path), topleftconvention=False)
    except Exception as error:  # shareloc raises ValueError, KeyError, IndexError... on other files
        raise MissingRPCError(f"{path} is not an RPC model shareloc can read: {error}") from error
    return RPC(**rpc_dict_to_rio_rpcs(params, topleftconvention=False))


def sensor_image(
    image: str | os.PathLike[str], geomodel: str | os.PathLike[str] | None = None
) -> SensorImage:
    """Find the RPC model of ``image`` and check the image has one band.

    Parameters
    ----------
    image
        The sensor image.
    geomodel
        Its RPC model when it is not in the image or beside it under the usual names (same stem ``.geom``,
        ``RPC_*.XML`` in the same folder).

    Raises
    ------
    FileNotFoundError
        When the image (or the given geomodel) does not exist.
    BandCountError
        When the image has more or less than one band.
    MissingRPCError
        When no RPC model is found.
    """
    path = Path(image).expanduser().absolute()
    if not path.is_file():
        raise FileNotFoundError(f"sensor image {path} does not exist")
    with rasterio.open(path) as src:
        count, has_tags = src.count, src.rpcs is not None
    if count != 1:
        raise BandCountError(
            f"{path} has {count} bands; stereo matching needs one (panchromatic) band: extract it first "
            "(e.g. gdal_translate -b 1, keeping the RPC model)"
        )
    if geomodel is not None:
        model = Path(geomodel).expanduser().absolute()
        if not model.is_file():
            raise FileNotFoundError(f"geomodel {model} does not exist")
        read_rpc(model)
        return SensorImage(path, model)
    if has_tags:
        return SensorImage(path, path)
    for candidate in _candidates(path):
        try:
            read_rpc(candidate)
        except MissingRPCError:
            continue
        return SensorImage(path, candidate)
    raise MissingRPCError(
        f"{path} has no RPC model: none in its TIFF tags, no {path.stem}.geom, .RPB, _rpc.txt or RPC_*.XML "
        "beside it; pass geomodel= explicitly"
    )


def _shape(image: Path) -> tuple[int, int]:
    with rasterio.open(image) as src:
        return src.height, src.width


def footprint(
    sensor: SensorImage, heights: tuple[float, float], *, rpc: RPC | None = None
) -> shapely.Polygon:
    """Ground footprint (WGS84 lon/lat) of the image over a height range: the hull of its outline at both.

    Parameters
    ----------
    sensor
        The image and its model.
    heights
        Lowest and highest ellipsoidal heights (m) the ground may have.
    rpc
        The model when already read.
    """
    rows, cols = _shape(sensor.image)
    model = rpc if rpc is not None else read_rpc(sensor.geomodel)
    t = np.linspace(0.0, 1.0, 9)
    edge_r = np.concatenate([t * 0, t, t * 0 + 1, t[::-1]]) * rows
    edge_c = np.concatenate([t, t * 0 + 1, t[::-1], t * 0]) * cols
    points: list[Any] = []
    with RPCTransformer(model) as transformer:
        for h in heights:
            lon, lat = transformer.xy(edge_r, edge_c, zs=np.full(edge_r.shape, float(h)), offset="ul")
            points += list(zip(np.asarray(lon), np.asarray(lat), strict=True))
    return shapely.MultiPoint(points).convex_hull


def _height_range(rpc: RPC, dem: Path | None, area: shapely.Polygon) -> tuple[float, float]:
    """Heights the ground may take: the DEM's range over ``area`` (+/- 100 m) or the RPC model's own range."""
    if dem is not None:
        from rasterio.windows import from_bounds

        with rasterio.open(dem) as src:
            window = from_bounds(*area.bounds, transform=src.transform).round_offsets().round_lengths()
            data = src.read(1, window=window, boundless=True, masked=True).astype("float64")
        if data.count():
            # DEM heights are above the geoid; the geoid lies within -107..+86 m of the ellipsoid.
            return float(data.min()) - 110.0, float(data.max()) + 100.0
    low = rpc.height_off - abs(rpc.height_scale)
    high = rpc.height_off + abs(rpc.height_scale)
    return max(low, -500.0), min(high, 9000.0)


def check_pair(left: SensorImage, right: SensorImage, *, dem: str | os.PathLike[str] | None = None) -> float:
    """Check that the two images see a common ground area; return that area's share of the left footprint.

    Raises
    ------
    NonOverlappingPairError
        When the footprints (over the heights the ground may take) do not intersect.
    """
    rpc_left, rpc_right = read_rpc(left.geomodel), read_rpc(right.geomodel)
    dem_path = Path(dem) if dem is not None else None
    first = footprint(left, (rpc_left.height_off, rpc_left.height_off), rpc=rpc_left)
    heights = _height_range(rpc_left, dem_path, first.buffer(0.05))
    a = footprint(left, heights, rpc=rpc_left)
    b = footprint(right, heights, rpc=rpc_right)
    common = a.intersection(b)
    if common.is_empty or common.area <= 0.0:
        gap_deg = a.distance(b)
        raise NonOverlappingPairError(
            f"{left.image.name} and {right.image.name} do not overlap at any height in "
            f"[{heights[0]:.0f}, {heights[1]:.0f}] m (footprints {gap_deg * 111_000:.0f} m apart): "
            "they are not a stereo pair"
        )
    return float(common.area / a.area)
