"""Triangle meshes as glTF 2.0 binary (GLB): write and read positions, normals, vertex colours, indices.

pygltflib / trimesh are not in the stack; a GLB holding one mesh primitive is a 12-byte header, a JSON
chunk and a BIN chunk (glTF 2.0 specification, section 4.4), written and read here with :mod:`struct`
and numpy. glTF is Y-up: the mesh is stored with ``(x, z, -y)`` and read back to Z-up ``(x, y, z)``.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ai4geo_kernel.errors import MeshError
from ai4geo_kernel.io.atomic import atomic_path

__all__ = ["TriangleMesh", "write_glb", "read_gltf"]

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


@dataclass(frozen=True)
class TriangleMesh:
    """A triangle mesh in a Z-up metric frame.

    Attributes
    ----------
    positions : numpy.ndarray
        ``(n, 3)`` float32 vertex coordinates.
    indices : numpy.ndarray
        ``(m, 3)`` uint32 triangles.
    colors : numpy.ndarray or None
        ``(n, 3)`` float32 vertex colours in 0-1.
    normals : numpy.ndarray or None
        ``(n, 3)`` float32 unit normals.
    """

    positions: np.ndarray
    indices: np.ndarray
    colors: np.ndarray | None = None
    normals: np.ndarray | None = None


def write_glb(mesh: TriangleMesh, path: str | os.PathLike[str]) -> None:
    """Write ``mesh`` as one GLB file (atomically)."""
    y_up = np.column_stack([mesh.positions[:, 0], mesh.positions[:, 2], -mesh.positions[:, 1]]).astype("<f4")
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
        offset = len(blob)
        blob += array.tobytes()
        blob += b"\0" * (-len(blob) % 4)
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": array.nbytes, "target": target})
        accessor = {
            "bufferView": index,
            "componentType": 5125 if name == "indices" else 5126,
            "count": int(array.shape[0]),
            "type": kind,
        }
        if name == "POSITION":
            accessor.update(min=array.min(axis=0).tolist(), max=array.max(axis=0).tolist())
        accessors.append(accessor)
        if name != "indices":
            attributes[name] = index
    document = {
        "asset": {"version": "2.0", "generator": "ai4geo_kernel"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": attributes, "indices": len(arrays) - 1, "mode": 4}]}],
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


def read_gltf(path: str | os.PathLike[str]) -> TriangleMesh:
    """Read every triangle primitive of a GLB (or a ``.gltf`` with embedded / sibling buffers) as one mesh.

    Node transforms are not applied (the meshes are taken in their own frame); Y-up is turned to Z-up.

    Raises
    ------
    MeshError
        If the file is not glTF 2.0 or holds no triangles.
    """
    data = Path(path).read_bytes()
    buffers: list[bytes]
    if data[:4] == b"glTF":
        magic, version, _ = struct.unpack_from("<III", data, 0)
        if version != 2:
            raise MeshError(f"glTF version {version} is not supported (2 only)")
        length, kind = struct.unpack_from("<II", data, 12)
        document = json.loads(data[20 : 20 + length])
        rest = 20 + length
        buffers = []
        if rest + 8 <= len(data):
            blength, bkind = struct.unpack_from("<II", data, rest)
            buffers.append(data[rest + 8 : rest + 8 + blength])
    else:
        try:
            document = json.loads(data)
        except ValueError as error:
            raise MeshError(f"{os.fspath(path)} is neither GLB nor glTF JSON") from error
        buffers = []
        for buffer in document.get("buffers", []):
            uri = buffer.get("uri", "")
            if uri.startswith("data:"):
                import base64

                buffers.append(base64.b64decode(uri.split(",", 1)[1]))
            else:
                sibling = (Path(path).parent / uri).resolve()
                if not sibling.is_relative_to(Path(path).parent.resolve()):
                    raise MeshError(f"buffer {uri!r} leaves the folder of the glTF file")
                buffers.append(sibling.read_bytes())

    def accessor(index: int) -> np.ndarray:
        acc = document["accessors"][index]
        view = document["bufferViews"][acc["bufferView"]]
        dtype = np.dtype(_COMPONENTS[acc["componentType"]]).newbyteorder("<")
        size = _SIZES[acc["type"]]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        stride = view.get("byteStride")
        raw = buffers[view["buffer"]]
        if stride and stride != dtype.itemsize * size:
            rows = np.frombuffer(raw, dtype=np.uint8, count=stride * acc["count"], offset=start)
            rows = rows[: stride * acc["count"]].reshape(acc["count"], stride)[:, : dtype.itemsize * size]
            values = np.ascontiguousarray(rows).view(dtype)
        else:
            values = np.frombuffer(raw, dtype=dtype, count=acc["count"] * size, offset=start)
        values = values.reshape(acc["count"], size) if size > 1 else values
        if acc.get("normalized") and dtype.kind in "ui":
            values = values / np.iinfo(dtype).max
        return values

    positions, indices, colors, normals = [], [], [], []
    count = 0
    for mesh in document.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            if primitive.get("mode", 4) != 4 or "POSITION" not in primitive.get("attributes", {}):
                continue
            attrs = primitive["attributes"]
            p = accessor(attrs["POSITION"]).astype(np.float32)
            idx = (
                accessor(primitive["indices"]).astype(np.uint32)
                if "indices" in primitive
                else np.arange(len(p), dtype=np.uint32)
            )
            positions.append(np.column_stack([p[:, 0], -p[:, 2], p[:, 1]]))
            indices.append(idx.reshape(-1, 3) + count)
            c = (
                accessor(attrs["COLOR_0"])[:, :3].astype(np.float32)
                if "COLOR_0" in attrs
                else np.full((len(p), 3), 0.8, np.float32)
            )
            colors.append(c)
            if "NORMAL" in attrs:
                n = accessor(attrs["NORMAL"]).astype(np.float32)
                normals.append(np.column_stack([n[:, 0], -n[:, 2], n[:, 1]]))
            count += len(p)
    if not positions:
        raise MeshError(f"{os.fspath(path)} holds no triangle mesh")
    return TriangleMesh(
        positions=np.vstack(positions).astype(np.float32),
        indices=np.vstack(indices),
        colors=np.vstack(colors),
        normals=np.vstack(normals) if len(normals) == len(positions) else None,
    )
