"""Triangle meshes as glTF 2.0 (GLB or ``.gltf``): write and read positions, normals, vertex colours,
indices and their georeferencing.

pygltflib / trimesh are not in the stack; a GLB holding one mesh primitive is a 12-byte header, a JSON
chunk and a BIN chunk (glTF 2.0 specification, section 4.4), written and read here with :mod:`struct`
and numpy. Node transforms (``matrix`` or translation / rotation / scale, through the node hierarchy of
the default scene, section 5.25) are applied, quaternions with :class:`scipy.spatial.transform.Rotation`.
glTF is Y-up: vertices are stored as ``(x, z, -y)`` and read back to Z-up ``(x, y, z)`` (east, north, up).

Georeferencing, in the order it is looked for (the first found wins):

1. ``extensions.CESIUM_RTC.center``: an ECEF centre (EPSG:4978) added to the Z-up vertices, as 3D Tiles
   tools write it (https://github.com/KhronosGroup/glTF/tree/main/extensions/1.0/Vendor/CESIUM_RTC;
   the Y-up to Z-up turn happens before the centre is added, as in 3D Tiles).
2. ``asset.extras``: ``{"crs": "EPSG:32631", "offset": [x, y, z]}`` (our convention, written by
   :func:`write_glb`): the Z-up vertices, after the node transforms (a root-node translation included),
   are relative to ``offset`` in ``crs``.
3. Sidecar files next to the glTF, as photogrammetry exports leave them: ContextCapture / iTwin Capture's
   ``metadata.xml`` (``<SRS>`` an EPSG code, a WKT or ``ENU:lat,lon``, and ``<SRSOrigin>x,y,z``); a WKT
   ``.prj`` with the same stem (``<stem>.prj``, or Pix4D's ``<stem>_wkt.prj``) with an optional offset
   file (Pix4D's ``<stem>_offset.xyz`` or ``offset.xyz``: three numbers, see
   https://support.pix4d.com/hc/en-us/articles/204606535).

A ``ENU:lat,lon`` origin is taken as a transverse Mercator centred on it (within a few centimetres of the
local tangent plane over a kilometre). A mesh with none of these is not georeferenced (``crs`` is None).
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError
from scipy.spatial.transform import Rotation

from ai4geo_kernel.errors import MeshError
from ai4geo_kernel.io.atomic import atomic_path

__all__ = ["TriangleMesh", "write_glb", "read_gltf", "georeferencing_sidecars", "GLTF_EXTRAS_KEYS"]

#: The keys of ``asset.extras`` that georeference a glTF (our convention).
GLTF_EXTRAS_KEYS = ("crs", "offset")

_MAGIC, _JSON, _BIN = 0x46546C67, 0x4E4F534A, 0x004E4942
_COMPONENTS = {
    5120: np.int8,
    5121: np.uint8,
    5122: np.int16,
    5123: np.uint16,
    5125: np.uint32,
    5126: np.float32,
}
_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
#: Vertices farther than this from the offset (metres) are recentred so that float32 keeps millimetres.
_FLOAT32_SAFE = 10_000.0


@dataclass(frozen=True)
class TriangleMesh:
    """A triangle mesh in a Z-up metric frame.

    Attributes
    ----------
    positions : numpy.ndarray
        ``(n, 3)`` vertex coordinates relative to ``offset`` (float32 when read; float64 accepted when
        written, e.g. absolute projected coordinates with a zero offset).
    indices : numpy.ndarray
        ``(m, 3)`` uint32 triangles.
    colors : numpy.ndarray or None
        ``(n, 3)`` float32 vertex colours in 0-1.
    normals : numpy.ndarray or None
        ``(n, 3)`` float32 unit normals.
    crs : pyproj.CRS or None
        The CRS of ``offset + positions``; None when the mesh is not georeferenced.
    offset : tuple of float
        ``(x, y, z)`` in ``crs`` that ``positions`` are relative to.
    name : str or None
        The mesh's name in the file (first named node or mesh).
    """

    positions: np.ndarray
    indices: np.ndarray
    colors: np.ndarray | None = None
    normals: np.ndarray | None = None
    crs: CRS | None = None
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    name: str | None = None

    @property
    def georeferenced(self) -> bool:
        """Whether the mesh has a CRS."""
        return self.crs is not None

    def world(self) -> np.ndarray:
        """``(n, 3)`` float64 coordinates in ``crs`` (``offset + positions``)."""
        return np.asarray(self.positions, dtype=np.float64) + np.asarray(self.offset, dtype=np.float64)


def _crs_text(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_wkt()


def write_glb(
    mesh: TriangleMesh,
    path: str | os.PathLike[str],
    *,
    crs: CRS | str | None = None,
    offset: tuple[float, float, float] | None = None,
) -> None:
    """Write ``mesh`` as one GLB file (atomically), georeferenced when it has a CRS.

    Parameters
    ----------
    mesh : TriangleMesh
        The mesh; its world coordinates are ``mesh.offset + mesh.positions``.
    path : path-like
        The ``.glb`` to write.
    crs : pyproj.CRS or str, optional
        The CRS of the world coordinates (default ``mesh.crs``); written with the offset in
        ``asset.extras`` (see the module docstring).
    offset : tuple of float, optional
        What the stored float32 vertices are relative to (default: the rounded centre of the mesh when it
        has a CRS, else ``mesh.offset``), so that vertices far from 0 keep their precision.
    """
    crs = CRS.from_user_input(crs) if crs is not None else mesh.crs
    world = mesh.world()
    if offset is None:
        if crs is not None and len(world):
            offset = tuple(float(v) for v in np.round((world.min(axis=0) + world.max(axis=0)) / 2))
        else:
            offset = tuple(float(v) for v in mesh.offset)
    local = world - np.asarray(offset, dtype=np.float64)
    y_up = np.column_stack([local[:, 0], local[:, 2], -local[:, 1]]).astype("<f4")
    arrays: list[tuple[str, np.ndarray, str, int]] = [("POSITION", y_up, "VEC3", 34962)]
    if mesh.normals is not None:
        n = mesh.normals
        arrays.append(("NORMAL", np.column_stack([n[:, 0], n[:, 2], -n[:, 1]]).astype("<f4"), "VEC3", 34962))
    if mesh.colors is not None:
        arrays.append(("COLOR_0", np.asarray(mesh.colors, dtype="<f4"), "VEC3", 34962))
    arrays.append(("indices", np.asarray(mesh.indices, dtype="<u4").reshape(-1), "SCALAR", 34963))
    blob = bytearray()
    views, accessors, attributes = [], [], {}
    for index, (name, array, kind, target) in enumerate(arrays):
        start = len(blob)
        blob += array.tobytes()
        blob += b"\0" * (-len(blob) % 4)
        views.append({"buffer": 0, "byteOffset": start, "byteLength": array.nbytes, "target": target})
        accessor = {
            "bufferView": index,
            "componentType": 5125 if name == "indices" else 5126,
            "count": int(array.shape[0]),
            "type": kind,
        }
        if name == "POSITION" and len(array):
            accessor.update(min=array.min(axis=0).tolist(), max=array.max(axis=0).tolist())
        accessors.append(accessor)
        if name != "indices":
            attributes[name] = index
    asset: dict[str, Any] = {"version": "2.0", "generator": "ai4geo_kernel"}
    if crs is not None or any(offset):
        asset["extras"] = {"offset": [float(v) for v in offset]}
        if crs is not None:
            asset["extras"]["crs"] = _crs_text(crs)
    node: dict[str, Any] = {"mesh": 0}
    gltf_mesh: dict[str, Any] = {
        "primitives": [{"attributes": attributes, "indices": len(arrays) - 1, "mode": 4}]
    }
    if mesh.name:
        node["name"] = gltf_mesh["name"] = mesh.name
    document = {
        "asset": asset,
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [node],
        "meshes": [gltf_mesh],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(blob)}],
    }
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(struct.pack("<III", _MAGIC, 2, total))
        out.write(struct.pack("<II", len(text), _JSON) + text)
        out.write(struct.pack("<II", len(blob), _BIN) + bytes(blob))


def _load(path: Path) -> tuple[dict[str, Any], list[bytes]]:
    """The glTF JSON document and its binary buffers."""
    data = path.read_bytes()
    if data[:4] == b"glTF":
        if len(data) < 20:
            raise MeshError(f"{path.name}: GLB header is truncated ({len(data)} bytes)")
        _, version, _ = struct.unpack_from("<III", data, 0)
        if version != 2:
            raise MeshError(f"{path.name}: glTF version {version} is not supported (2 only)")
        length, kind = struct.unpack_from("<II", data, 12)
        if kind != _JSON or 20 + length > len(data):
            raise MeshError(f"{path.name}: the first GLB chunk is not a complete JSON chunk")
        try:
            document = json.loads(data[20 : 20 + length])
        except ValueError as error:
            raise MeshError(f"{path.name}: the GLB JSON chunk is not valid JSON ({error})") from error
        rest = 20 + length
        buffers = []
        if rest + 8 <= len(data):
            blength, bkind = struct.unpack_from("<II", data, rest)
            if bkind == _BIN:
                buffers.append(data[rest + 8 : rest + 8 + blength])
        return document, buffers
    try:
        document = json.loads(data)
    except ValueError as error:
        raise MeshError(f"{path.name} is neither GLB nor glTF JSON") from error
    buffers = []
    for buffer in document.get("buffers", []):
        uri = buffer.get("uri", "")
        if uri.startswith("data:"):
            buffers.append(base64.b64decode(uri.split(",", 1)[1]))
        else:
            sibling = (path.parent / uri).resolve()
            if not sibling.is_relative_to(path.parent.resolve()):
                raise MeshError(f"{path.name}: buffer {uri!r} leaves the folder of the glTF file")
            if not sibling.is_file():
                raise MeshError(f"{path.name}: buffer {uri!r} is missing")
            buffers.append(sibling.read_bytes())
    return document, buffers


def _accessor(document: dict[str, Any], buffers: list[bytes], index: int) -> np.ndarray:
    """The values of accessor ``index`` (strided views and normalized integers handled)."""
    try:
        acc = document["accessors"][index]
    except (IndexError, KeyError, TypeError) as error:
        raise MeshError(f"accessor {index} does not exist") from error
    if "bufferView" not in acc or "sparse" in acc:
        raise MeshError(f"accessor {index}: sparse accessors or no bufferView (not supported)")
    if acc.get("componentType") not in _COMPONENTS or acc.get("type") not in _SIZES:
        raise MeshError(f"accessor {index}: componentType/type {acc.get('componentType')}/{acc.get('type')}")
    try:
        view = document["bufferViews"][acc["bufferView"]]
        raw = buffers[view["buffer"]]
    except (IndexError, KeyError, TypeError) as error:
        raise MeshError(f"accessor {index}: its bufferView or buffer does not exist") from error
    dtype = np.dtype(_COMPONENTS[acc["componentType"]]).newbyteorder("<")
    size, count = _SIZES[acc["type"]], int(acc["count"])
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    stride = view.get("byteStride") or dtype.itemsize * size
    needed = start + stride * (count - 1) + dtype.itemsize * size if count else start
    if needed > len(raw):
        raise MeshError(f"accessor {index} reads past the end of its buffer ({needed} > {len(raw)} bytes)")
    if stride != dtype.itemsize * size:
        rows = np.frombuffer(raw, dtype=np.uint8, count=needed - start, offset=start)
        rows = np.pad(rows, (0, stride * count - len(rows))).reshape(count, stride)
        rows = rows[:, : dtype.itemsize * size]
        values = np.ascontiguousarray(rows).view(dtype).reshape(-1)
    else:
        values = np.frombuffer(raw, dtype=dtype, count=count * size, offset=start)
    values = values.reshape(count, size) if size > 1 else values
    if acc.get("normalized") and dtype.kind in "ui":
        values = values / np.iinfo(dtype).max
    return values


def _local_matrix(node: dict[str, Any]) -> np.ndarray:
    """A node's 4x4 transform: ``matrix`` (column-major) or T * R * S."""
    if "matrix" in node:
        return np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
    matrix = np.eye(4)
    scale = np.diag(list(np.asarray(node.get("scale", [1, 1, 1]), dtype=np.float64)) + [1.0])
    matrix[:3, :3] = Rotation.from_quat(node.get("rotation", [0, 0, 0, 1])).as_matrix()
    matrix[:3, 3] = node.get("translation", [0, 0, 0])
    return matrix @ scale


def _mesh_instances(document: dict[str, Any]) -> Iterator[tuple[int, np.ndarray, str | None]]:
    """(mesh index, world matrix, node name) for each node of the default scene holding a mesh."""
    nodes = document.get("nodes", [])
    scenes = document.get("scenes")
    if not nodes:  # no node hierarchy: every mesh in its own frame
        for index in range(len(document.get("meshes", []))):
            yield index, np.eye(4), None
        return
    if scenes:
        roots = scenes[document.get("scene", 0)].get("nodes", [])
    else:
        children = {c for node in nodes for c in node.get("children", [])}
        roots = [i for i in range(len(nodes)) if i not in children]
    stack = [(i, np.eye(4), ()) for i in roots]
    while stack:
        index, parent, path = stack.pop()
        if index in path:
            raise MeshError(f"node {index} is its own ancestor (cycle in the node hierarchy)")
        try:
            node = nodes[index]
        except (IndexError, TypeError) as error:
            raise MeshError(f"node {index} does not exist") from error
        matrix = parent @ _local_matrix(node)
        if "mesh" in node:
            yield node["mesh"], matrix, node.get("name")
        stack.extend((c, matrix, (*path, index)) for c in reversed(node.get("children", [])))


def _base_color(document: dict[str, Any], primitive: dict[str, Any]) -> list[float] | None:
    if "material" not in primitive:
        return None
    try:
        material = document["materials"][primitive["material"]]
    except (IndexError, KeyError):
        return None
    factor = material.get("pbrMetallicRoughness", {}).get("baseColorFactor")
    return list(factor[:3]) if factor else None


def georeferencing_sidecars(path: str | os.PathLike[str]) -> list[Path]:
    """The files next to a glTF that :func:`read_gltf` looks at for its georeferencing, in that order.

    ``metadata.xml`` (ContextCapture), ``<stem>.prj`` and ``<stem>_wkt.prj`` (WKT), ``<stem>_offset.xyz``
    and ``offset.xyz`` (Pix4D); whether they exist or not (e.g. to tell when a cached read is stale).
    """
    path = Path(path)
    names = (
        "metadata.xml",
        f"{path.stem}.prj",
        f"{path.stem}_wkt.prj",
        f"{path.stem}_offset.xyz",
        "offset.xyz",
    )
    return [path.parent / name for name in names]


def _sidecar(path: Path) -> tuple[CRS | None, tuple[float, float, float]]:
    """CRS and offset from ``metadata.xml`` or ``.prj`` / ``_offset.xyz`` files next to ``path``."""
    metadata, prj, wkt_prj, stem_offset, offset_xyz = georeferencing_sidecars(path)
    if metadata.is_file():
        root = ElementTree.parse(metadata).getroot()
        srs, origin = root.findtext(".//SRS"), root.findtext(".//SRSOrigin") or "0,0,0"
        if srs:
            values = [float(v) for v in re.split(r"[,\s]+", origin.strip()) if v]
            offset = tuple((values + [0.0, 0.0, 0.0])[:3])
            if srs.upper().startswith("ENU:"):
                lat, lon = (float(v) for v in srs[4:].split(","))
                crs = CRS.from_proj4(f"+proj=tmerc +lat_0={lat} +lon_0={lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84")
            else:
                crs = CRS.from_user_input(srs.strip())
            return crs, offset  # type: ignore[return-value]
    for candidate in (prj, wkt_prj):
        if candidate.is_file():
            crs = CRS.from_wkt(candidate.read_text().strip())
            offset = (0.0, 0.0, 0.0)
            for offset_file in (stem_offset, offset_xyz):
                if offset_file.is_file():
                    values = [float(v) for v in offset_file.read_text().split()[:3]]
                    offset = tuple((values + [0.0, 0.0, 0.0])[:3])  # type: ignore[assignment]
                    break
            return crs, offset
    return None, (0.0, 0.0, 0.0)


def _georeferencing(document: dict[str, Any], path: Path) -> tuple[CRS | None, tuple[float, float, float]]:
    rtc = document.get("extensions", {}).get("CESIUM_RTC")
    try:
        if rtc is not None:
            return CRS.from_epsg(4978), tuple(float(v) for v in rtc["center"][:3])  # type: ignore[return-value]
        extras = document.get("asset", {}).get("extras") or {}
        if isinstance(extras, dict) and ("crs" in extras or "offset" in extras):
            offset = tuple(float(v) for v in (list(extras.get("offset", [])) + [0.0, 0.0, 0.0])[:3])
            crs = CRS.from_user_input(extras["crs"]) if extras.get("crs") else None
            return crs, offset  # type: ignore[return-value]
        return _sidecar(path)
    except (CRSError, KeyError, TypeError, ValueError, ElementTree.ParseError) as error:
        raise MeshError(f"{path.name}: unreadable georeferencing ({error})") from error


def read_gltf(path: str | os.PathLike[str]) -> TriangleMesh:
    """Read the triangle primitives of a GLB (or a ``.gltf`` with embedded / sibling buffers) as one mesh.

    Node transforms are applied through the hierarchy of the default scene, Y-up is turned to Z-up and the
    georeferencing (module docstring) gives ``crs`` and ``offset``; vertices are kept relative to the
    offset (recentred when they lie farther than 10 km from it) so that float32 keeps millimetres.

    Raises
    ------
    MeshError
        If the file is not glTF 2.0, is truncated or inconsistent (the message names the part), needs an
        unsupported extension (Draco, meshopt) or holds no triangles.
    """
    path = Path(path)
    document, buffers = _load(path)
    if not isinstance(document, dict):
        raise MeshError(f"{path.name}: the glTF JSON is not an object")
    required = set(document.get("extensionsRequired", [])) - {"CESIUM_RTC", "KHR_materials_unlit"}
    if required:
        raise MeshError(f"{path.name} requires glTF extensions that are not supported: {sorted(required)}")
    crs, offset = _georeferencing(document, path)
    world, indices, colors, normals = [], [], [], []
    name: str | None = None
    count = 0
    for mesh_index, matrix, node_name in _mesh_instances(document):
        try:
            mesh = document["meshes"][mesh_index]
        except (IndexError, KeyError, TypeError) as error:
            raise MeshError(f"{path.name}: mesh {mesh_index} does not exist") from error
        name = name or node_name or mesh.get("name")
        normal_matrix = np.linalg.inv(matrix[:3, :3]).T if np.linalg.det(matrix[:3, :3]) else np.eye(3)
        for primitive in mesh.get("primitives", []):
            if primitive.get("mode", 4) != 4 or "POSITION" not in primitive.get("attributes", {}):
                continue
            attrs = primitive["attributes"]
            p = _accessor(document, buffers, attrs["POSITION"]).astype(np.float64)
            if p.ndim != 2 or p.shape[1] != 3:
                raise MeshError(f"{path.name}: POSITION of mesh {mesh_index} is not VEC3")
            idx = (
                _accessor(document, buffers, primitive["indices"]).astype(np.int64).reshape(-1)
                if "indices" in primitive
                else np.arange(len(p), dtype=np.int64)
            )
            if len(idx) % 3:
                raise MeshError(f"{path.name}: mesh {mesh_index} has {len(idx)} indices, not a multiple of 3")
            if len(idx) and (idx.max() >= len(p) or idx.min() < 0):
                raise MeshError(f"{path.name}: mesh {mesh_index} has indices beyond its {len(p)} vertices")
            q = p @ matrix[:3, :3].T + matrix[:3, 3]
            world.append(np.column_stack([q[:, 0], -q[:, 2], q[:, 1]]))
            indices.append(idx.reshape(-1, 3) + count)
            if "COLOR_0" in attrs:
                c = _accessor(document, buffers, attrs["COLOR_0"])[:, :3].astype(np.float32)
            else:
                c = np.tile(np.float32(_base_color(document, primitive) or [0.8, 0.8, 0.8]), (len(p), 1))
            colors.append(c)
            if "NORMAL" in attrs:
                n = _accessor(document, buffers, attrs["NORMAL"]).astype(np.float64) @ normal_matrix.T
                n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
                normals.append(np.column_stack([n[:, 0], -n[:, 2], n[:, 1]]).astype(np.float32))
            count += len(p)
    if not world or not count:
        raise MeshError(f"{path.name} holds no triangle mesh")
    local = np.vstack(world)
    low, high = local.min(axis=0), local.max(axis=0)
    if crs is not None and np.abs(np.vstack([low, high])).max() > _FLOAT32_SAFE:
        shift = np.round((low + high) / 2)  # e.g. a root-node translation holding projected coordinates
        local -= shift
        offset = tuple(float(v) for v in np.asarray(offset) + shift)  # type: ignore[assignment]
    elif crs is None:
        local += np.asarray(offset)  # an offset without a CRS: applied, the mesh stays in its own frame
        offset = (0.0, 0.0, 0.0)
    return TriangleMesh(
        positions=local.astype(np.float32),
        indices=np.vstack(indices).astype(np.uint32),
        colors=np.vstack(colors),
        normals=np.vstack(normals) if len(normals) == len(world) else None,
        crs=crs,
        offset=offset,
        name=name,
    )
