"""Where the demo area lies: its UTM pixel grids (1 m and 10 m) over Toulouse, and their WGS84 footprint.

Vector geometry inside the generator is built in *pixel metres*: ``x`` = column, ``y`` = row of the 1 m grid,
both in metres from the upper-left corner (``y`` grows southwards). :meth:`AreaGrid.to_utm` maps such
geometry to EPSG:32631.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.affinity
from affine import Affine
from pyproj import Transformer

from ai4geo_kernel.errors import ConfigurationError

__all__ = [
    "CENTER_LON",
    "CENTER_LAT",
    "CRS",
    "EPSG",
    "BASE_SIDE_M",
    "VHR_RESOLUTION",
    "S2_RESOLUTION",
    "MIN_SCALE",
    "MAX_SCALE",
    "AreaGrid",
    "area_grid",
]

#: Centre of the area: Toulouse, near the Capitole.
CENTER_LON = 1.444
CENTER_LAT = 43.604
#: Projected CRS of every raster (WGS 84 / UTM zone 31N).
CRS = "EPSG:32631"
EPSG = 32631
#: Side of the area at ``scale=1`` (metres).
BASE_SIDE_M = 1280
#: Pixel size of the VHR image, the DSM, the DTM and the 1 m truth (metres).
VHR_RESOLUTION = 1
#: Pixel size of the Sentinel-like series and the 10 m truth (metres).
S2_RESOLUTION = 10
#: Allowed range of ``scale``.
MIN_SCALE = 0.1
MAX_SCALE = 8.0


@dataclass(frozen=True)
class AreaGrid:
    """The square demo area: upper-left corner and side, in EPSG:32631 metres.

    Attributes
    ----------
    west, north
        Upper-left corner (multiples of 10 m, so that the 10 m grid aligns with the 1 m grid).
    side
        Side in metres (a multiple of 10 m).
    """

    west: float
    north: float
    side: int

    @property
    def size(self) -> int:
        """Side of the 1 m grid in pixels."""
        return self.side // VHR_RESOLUTION

    @property
    def size_10m(self) -> int:
        """Side of the 10 m grid in pixels."""
        return self.side // S2_RESOLUTION

    @property
    def transform(self) -> Affine:
        """Geotransform of the 1 m grid."""
        return Affine(VHR_RESOLUTION, 0.0, self.west, 0.0, -VHR_RESOLUTION, self.north)

    @property
    def transform_10m(self) -> Affine:
        """Geotransform of the 10 m grid."""
        return Affine(S2_RESOLUTION, 0.0, self.west, 0.0, -S2_RESOLUTION, self.north)

    @property
    def bbox_utm(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in EPSG:32631."""
        return (self.west, self.north - self.side, self.west + self.side, self.north)

    @property
    def footprint_wgs84(self) -> dict[str, Any]:
        """GeoJSON polygon of the area in WGS84 (the edges densified, counter-clockwise)."""
        west, south, east, north = self.bbox_utm
        steps = 8
        ring_utm = (
            [(west + (east - west) * i / steps, south) for i in range(steps)]
            + [(east, south + (north - south) * i / steps) for i in range(steps)]
            + [(east - (east - west) * i / steps, north) for i in range(steps)]
            + [(west, north - (north - south) * i / steps) for i in range(steps)]
        )
        to_wgs84 = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
        ring = [tuple(round(v, 7) for v in to_wgs84.transform(x, y)) for x, y in ring_utm]
        ring.append(ring[0])
        return {"type": "Polygon", "coordinates": [[list(point) for point in ring]]}

    @property
    def bbox_wgs84(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in WGS84 degrees, enclosing the whole area."""
        ring = self.footprint_wgs84["coordinates"][0]
        lons = [p[0] for p in ring]
        lats = [p[1] for p in ring]
        return (min(lons), min(lats), max(lons), max(lats))

    def to_utm(self, geometry: shapely.Geometry) -> shapely.Geometry:
        """Map a geometry from pixel metres (x = column, y = row, from the upper-left corner) to UTM."""
        return shapely.affinity.affine_transform(geometry, [1.0, 0.0, 0.0, -1.0, self.west, self.north])


def area_grid(scale: float) -> AreaGrid:
    """The demo area at ``scale``: a square of about ``1280 * scale`` metres centred on Toulouse.

    Parameters
    ----------
    scale
        Linear scale of the area (1.0: 1280 m x 1280 m; 4.0: 5120 m x 5120 m).

    Raises
    ------
    ConfigurationError
        When ``scale`` is outside ``[MIN_SCALE, MAX_SCALE]``.
    """
    if not (isinstance(scale, int | float) and math.isfinite(scale) and MIN_SCALE <= scale <= MAX_SCALE):
        raise ConfigurationError(f"scale must be a number in [{MIN_SCALE}, {MAX_SCALE}], got {scale!r}")
    side = max(10, round(BASE_SIDE_M * scale / S2_RESOLUTION)) * S2_RESOLUTION
    x, y = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(CENTER_LON, CENTER_LAT)
    west = round((x - side / 2) / S2_RESOLUTION) * S2_RESOLUTION
    north = round((y + side / 2) / S2_RESOLUTION) * S2_RESOLUTION
    return AreaGrid(west=float(west), north=float(north), side=int(side))
