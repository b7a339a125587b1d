"""glTF/GLB meshes for the scene: their extent and the arrays the browser draws."""

from __future__ import annotations

from typing import Any

import numpy as np

from ai4geo_kernel.io.gltf import read_gltf

__all__ = ["mesh_info", "mesh_arrays"]


def mesh_info(location: str) -> dict[str, Any]:
    """Bounds (x, y in the mesh's own frame), height range and triangle count of a glTF/GLB file."""
    mesh = read_gltf(location)
    low, high = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    return {
        "bounds": (float(low[0]), float(low[1]), float(high[0]), float(high[1])),
        "crs": None,
        "zmin": float(low[2]),
        "zmax": float(high[2]),
        "triangles": int(len(mesh.indices)),
    }


def mesh_arrays(location: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Meta and arrays (positions, indices, colours, normals) of a glTF/GLB mesh in its own frame."""
    mesh = read_gltf(location)
    arrays = {
        "positions": mesh.positions,
        "indices": mesh.indices.astype(np.uint32),
        "colors": mesh.colors if mesh.colors is not None else np.full_like(mesh.positions, 0.8),
    }
    if mesh.normals is not None:
        arrays["normals"] = mesh.normals
    return {"triangles": int(len(mesh.indices))}, arrays
