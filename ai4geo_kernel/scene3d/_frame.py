"""The scene's metric frame: every layer is sent in one projected CRS, relative to one origin, so that
float32 vertex coordinates keep centimetre precision and several layers overlay."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from ai4geo_kernel.errors import MissingCRSError

__all__ = ["SceneFrame", "metric_crs"]


def metric_crs(crs: CRS, bounds: tuple[float, float, float, float]) -> CRS:
    """``crs`` when projected, else the UTM zone of the centre of ``bounds`` (geographic coordinates)."""
    if crs.is_projected:
        return crs
    west, south, east, north = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform_bounds(
        *bounds
    )
    zones = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(west, south, east, north))
    return CRS.from_epsg(int(zones[0].code))


@dataclass(frozen=True)
class SceneFrame:
    """A projected ``crs`` and an ``origin`` (x, y in that CRS) that scene coordinates are relative to."""

    crs: CRS
    origin: tuple[float, float]

    @classmethod
    def parse(cls, crs: str, origin: str) -> SceneFrame:
        """From query-string values: ``crs=EPSG:32631``, ``origin=374000.5,4828600``."""
        x, y = (float(v) for v in origin.split(","))
        return cls(CRS.from_user_input(crs), (x, y))

    def local(self, source_crs: CRS | None, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x``, ``y`` (in ``source_crs``) to float32 metres relative to the origin."""
        if source_crs is None:
            raise MissingCRSError("the layer has no CRS: it cannot be placed in the scene")
        if not CRS.from_user_input(source_crs).equals(self.crs):
            x, y = Transformer.from_crs(source_crs, self.crs, always_xy=True).transform(x, y)
        return (np.asarray(x, dtype=np.float64) - self.origin[0]).astype(np.float32), (
            np.asarray(y, dtype=np.float64) - self.origin[1]
        ).astype(np.float32)

    def as_dict(self) -> dict[str, object]:
        return {"crs": self.crs.to_string(), "origin": list(self.origin)}
