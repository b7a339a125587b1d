"""3D scenes in notebooks: :func:`show3d` puts DSMs, buildings and point clouds in the Lab's 3D viewer.

The scene travels in the output itself (MIME type ``application/vnd.ai4geo.scene3d+json``, rendered by the
``@ai4geo/viewer3d`` extension): the kernel decimates every layer to a bounded size (a terrain grid of at
most ``max_terrain`` vertices a side, at most ``max_points`` points), so nothing but the notebook page is
fetched: it renders offline, under any JupyterHub prefix, and again when the saved notebook is reopened.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
from pyproj import CRS

from ai4geo_kernel.errors import ConfigurationError, MissingCRSError, VectorError
from ai4geo_kernel.scene3d import (
    SceneFrame,
    buildings_payload,
    grid_mesh,
    metric_crs,
    pack_arrays,
    points_payload,
    with_heights,
)

__all__ = ["show3d", "Scene3D", "SCENE3D_MIME_TYPE", "COMPARE_MODES", "SIDES"]

SCENE3D_MIME_TYPE = "application/vnd.ai4geo.scene3d+json"
#: How the viewer compares the layers of side ``left`` and ``right`` (two dates): not at all, in two views
#: with linked cameras, or under one camera with a before/after slider.
COMPARE_MODES = ("off", "side", "slider")
#: Where a layer is drawn when comparing: everywhere, left (the earlier date) or right (the later one).
SIDES = ("both", "left", "right")


@dataclass
class Scene3D:
    """A 3D scene shown by the Lab's 3D viewer when it is the value of a notebook cell.

    Attributes
    ----------
    frame : SceneFrame
        The metric CRS and origin every layer is placed in.
    layers : list of dict
        One entry per layer: ``info`` (kind, name, bounds, z range) and its data (base64 A4G3 frames;
        buildings in ``buildings``).
    height : int
        Height of the output in pixels.
    compare : str
        One of :data:`COMPARE_MODES`; each layer's ``side`` (one of :data:`SIDES`) says where it is drawn.
    """

    frame: SceneFrame
    layers: list[dict[str, Any]] = field(default_factory=list)
    height: int = 520
    compare: str = "off"

    def to_json(self) -> dict[str, Any]:
        """The MIME bundle's JSON."""
        return {
            "frame": self.frame.as_dict(),
            "height": self.height,
            "compare": self.compare,
            "layers": self.layers,
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        kinds = ", ".join(f"{layer['info']['name']} ({layer['info']['kind']})" for layer in self.layers)
        return {SCENE3D_MIME_TYPE: self.to_json(), "text/plain": f"Scene3D: {kinds}"}


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def _bounds_info(
    name: str,
    kind: str,
    frame: SceneFrame,
    zmin: float,
    zmax: float,
    local: tuple[float, float, float, float],
) -> dict[str, Any]:
    west, south, east, north = local
    ox, oy = frame.origin
    return {
        "path": name,
        "name": name,
        "kind": kind,
        "crs": frame.crs.to_string(),
        "levels": 1,
        "bounds": [west + ox, south + oy, east + ox, north + oy],
        "zmin": zmin,
        "zmax": zmax,
    }


def _crs_and_bounds(obj: Any, crs: Any) -> tuple[CRS | None, tuple[float, float, float, float]]:
    if isinstance(obj, gpd.GeoDataFrame):
        return (CRS.from_user_input(obj.crs) if obj.crs is not None else None), tuple(obj.total_bounds)
    if hasattr(obj, "rio"):
        return (CRS.from_user_input(obj.rio.crs) if obj.rio.crs is not None else None), tuple(
            obj.rio.bounds()
        )
    xyz = _xyz(obj)[0]
    found = crs
    if found is None and hasattr(obj, "header"):
        try:
            found = obj.header.parse_crs()
        except Exception:  # noqa: BLE001 - a malformed CRS VLR leaves it unset
            found = None
    return (CRS.from_user_input(found) if found is not None else None), (
        float(xyz[:, 0].min()),
        float(xyz[:, 1].min()),
        float(xyz[:, 0].max()),
        float(xyz[:, 1].max()),
    )


def _xyz(obj: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(xyz, rgb, classes) of a point cloud: an (n, 3+) array or a laspy LasData."""
    if hasattr(obj, "x") and hasattr(obj, "header"):
        names = set(obj.point_format.dimension_names)
        xyz = np.column_stack([np.asarray(obj.x), np.asarray(obj.y), np.asarray(obj.z)])
        rgb = None
        if {"red", "green", "blue"} <= names:
            rgb = (np.column_stack([obj.red, obj.green, obj.blue]) >> 8).astype(np.uint8)
        classes = np.asarray(obj.classification, dtype=np.uint8) if "classification" in names else None
        return xyz, rgb, classes
    array = np.asarray(obj, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] < 3:
        raise VectorError(
            f"a point cloud must be an (n, 3) array or a laspy LasData, not shape {array.shape}"
        )
    return array[:, :3], None, None


def _terrain_layer(array: Any, frame: SceneFrame, name: str, max_side: int) -> dict[str, Any]:
    data = array.squeeze(drop=True) if array.ndim == 3 else array
    if data.ndim != 2:
        raise VectorError(f"a DSM DataArray must have one band, not dims {array.dims}")
    ydim, xdim = data.rio.y_dim, data.rio.x_dim
    step = max(1, math.ceil(max(data.sizes[ydim], data.sizes[xdim]) / max_side))
    small = data.isel({ydim: slice(None, None, step), xdim: slice(None, None, step)})
    heights = np.asarray(small.values, dtype=np.float32)  # computes a Dask array here, decimated first
    nodata = data.rio.nodata
    if nodata is not None and not np.isnan(nodata):
        heights = np.where(heights == nodata, np.nan, heights)
    xs, ys = (
        np.asarray(small[xdim].values, dtype=np.float64),
        np.asarray(small[ydim].values, dtype=np.float64),
    )
    mesh = grid_mesh(heights, xs, ys, frame, data.rio.crs)
    finite = heights[np.isfinite(heights)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    p = mesh["positions"]
    info = _bounds_info(
        name,
        "terrain",
        frame,
        zmin,
        zmax,
        (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())),
    )
    info["samples"] = int(heights.shape[1])
    return {
        "info": info,
        "data": _b64(pack_arrays({"level": 0, "x": 0, "y": 0, "zmin": zmin, "zmax": zmax}, mesh)),
    }


def _points_layer(obj: Any, frame: SceneFrame, name: str, crs: CRS | None, max_points: int) -> dict[str, Any]:
    xyz, rgb, classes = _xyz(obj)
    step = max(1, math.ceil(len(xyz) / max_points))
    pick = slice(None, None, step)
    arrays = points_payload(
        xyz[pick], None if rgb is None else rgb[pick], None if classes is None else classes[pick], crs, frame
    )
    p = arrays["positions"]
    info = _bounds_info(
        name,
        "points",
        frame,
        float(xyz[:, 2].min()),
        float(xyz[:, 2].max()),
        (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())),
    )
    info["count"] = int(len(p))
    info["classification"] = classes is not None
    return {
        "info": info,
        "levels": [_b64(pack_arrays({"level": 0, "levels": 1, "count": int(len(p))}, arrays))],
    }


def _buildings_layer(frame_in: gpd.GeoDataFrame, frame: SceneFrame, name: str) -> dict[str, Any]:
    buildings = with_heights(frame_in, name=name)
    payload = buildings_payload(buildings, frame)
    west, south, east, north = buildings.total_bounds
    ox, oy = frame.origin
    info = _bounds_info(
        name,
        "buildings",
        frame,
        float(buildings["base_z"].min()),
        float(buildings["top_z"].max()),
        (west - ox, south - oy, east - ox, north - oy),
    )
    info["count"] = payload[0]["count"]
    return {"info": info, "buildings": _b64(pack_arrays(*payload))}


def show3d(
    *objects: Any,
    names: Sequence[str] | None = None,
    compare: Literal["off", "side", "slider"] = "off",
    sides: Sequence[Literal["both", "left", "right"]] | None = None,
    crs: Any = None,
    height: int = 520,
    max_terrain: int = 256,
    max_points: int = 1_000_000,
) -> Scene3D:
    """Show DSMs, buildings and point clouds together in the Lab's 3D viewer, inline in a notebook.

    Parameters
    ----------
    *objects
        Each one of: a georeferenced DataArray of heights (rioxarray CRS and transform; a DSM or DTM,
        Dask-backed or not), a GeoDataFrame of building footprints with heights (``base_z`` / ``top_z``, or
        ``height`` plus an optional ``ground_elevation``), a point cloud (an ``(n, 3)`` array of x, y, z, or a
        ``laspy.LasData``).
    names : sequence of str, optional
        Layer names (default: the DataArray's name, ``buildings``, ``points``...; a repeated name gets a
        number).
    compare : {"off", "side", "slider"}
        Compare two dates of the same place: ``"side"`` shows the layers of side ``left`` and ``right`` in
        two views with one camera, ``"slider"`` in one view split by a draggable divider (left of it the
        ``left`` layers, right of it the ``right`` ones); layers of side ``both`` are drawn everywhere.
    sides : sequence of {"both", "left", "right"}, optional
        One side per object (default: all ``"both"``; with ``compare`` and exactly two objects,
        ``("left", "right")``: the first object is the earlier date).
    crs : optional
        CRS of point arrays (a LasData carries its own; default: the scene's).
    height : int
        Height of the output, in pixels.
    max_terrain : int
        Largest side of the terrain grid (the DSM is decimated to it before it is read).
    max_points : int
        Most points sent per cloud (a uniform stride beyond).

    Returns
    -------
    Scene3D
        Displayed by the Lab as an interactive 3D view (layers panel, class filter, orbit/fly navigation).

    Raises
    ------
    MissingCRSError
        If no object carries a CRS.
    ConfigurationError
        If ``compare`` or a side is not a known value, or ``sides`` does not give one side per object.

    Examples
    --------
    >>> from ai4geo_kernel import viz
    >>> viz.show3d(dsm, buildings, points)  # doctest: +SKIP
    >>> viz.show3d(dsm_2023, dsm_2024, compare="slider")  # doctest: +SKIP
    """
    if not objects:
        raise VectorError("show3d needs at least one DSM, buildings GeoDataFrame or point cloud")
    layer_sides = _sides(len(objects), compare, sides)
    located = [_crs_and_bounds(obj, crs) for obj in objects]
    first = next(((c, b) for c, b in located if c is not None), None)
    if first is None:
        raise MissingCRSError("none of the objects has a CRS: give one with crs=")
    scene_crs = metric_crs(first[0], first[1])
    west, south, east, north = first[1]
    if not CRS.from_user_input(first[0]).equals(scene_crs):
        from pyproj import Transformer

        west, south, east, north = Transformer.from_crs(first[0], scene_crs, always_xy=True).transform_bounds(
            west, south, east, north
        )
    frame = SceneFrame(scene_crs, (round((west + east) / 2), round((south + north) / 2)))
    scene = Scene3D(frame=frame, height=height, compare=compare)
    counts: dict[str, int] = {}
    used: set[str] = set()
    for index, (obj, (obj_crs, _)) in enumerate(zip(objects, located, strict=True)):
        if isinstance(obj, gpd.GeoDataFrame):
            kind = "buildings"
        elif hasattr(obj, "rio"):
            kind = "terrain"
        else:
            kind = "points"
        counts[kind] = counts.get(kind, 0) + 1
        default = (getattr(obj, "name", None) if kind == "terrain" else None) or (
            kind if counts[kind] == 1 else f"{kind} {counts[kind]}"
        )
        name = names[index] if names and index < len(names) else str(default)
        base, number = name, 1
        while name in used:  # the viewer finds a layer by its name
            number += 1
            name = f"{base} ({number})"
        used.add(name)
        if kind == "terrain":
            scene.layers.append(_terrain_layer(obj, frame, name, max_terrain))
        elif kind == "buildings":
            scene.layers.append(_buildings_layer(obj, frame, name))
        else:
            scene.layers.append(_points_layer(obj, frame, name, obj_crs or scene_crs, max_points))
        scene.layers[-1]["side"] = layer_sides[index]
    return scene


def _sides(count: int, compare: str, sides: Sequence[str] | None) -> list[str]:
    """One side per object, checked; two objects compared default to left (before) and right (after)."""
    if compare not in COMPARE_MODES:
        raise ConfigurationError(f"compare must be one of {COMPARE_MODES}, not {compare!r}")
    if sides is None:
        return ["left", "right"] if compare != "off" and count == 2 else ["both"] * count
    if len(sides) != count:
        raise ConfigurationError(f"sides gives {len(sides)} sides for {count} objects")
    unknown = [side for side in sides if side not in SIDES]
    if unknown:
        raise ConfigurationError(f"sides must be among {SIDES}, not {unknown}")
    return list(sides)
