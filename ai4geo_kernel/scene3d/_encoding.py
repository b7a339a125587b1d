"""The binary frame every 3D payload travels in: ``A4G3``, a little-endian uint32 header length, a JSON
header (``meta`` and, per array, name / dtype / shape / offset), then the arrays, each 8-byte aligned.

The browser reads it with one ``DataView`` and typed-array views on the same buffer (no parsing of numbers
in JSON); notebooks embed the same bytes base64-encoded.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["pack_arrays", "unpack_arrays", "MAGIC"]

MAGIC = b"A4G3"
_DTYPES = {"float32": "<f4", "uint32": "<u4", "uint8": "u1", "uint16": "<u2", "int32": "<i4"}


def pack_arrays(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> bytes:
    """Frame ``arrays`` (float32, uint32, uint8, uint16 or int32) with a JSON ``meta`` header."""
    entries, blobs, offset = [], [], 0
    for name, array in arrays.items():
        kind = np.dtype(array.dtype).name
        if kind not in _DTYPES:
            raise TypeError(f"array {name!r}: dtype {kind} cannot be sent (use one of {', '.join(_DTYPES)})")
        data = np.ascontiguousarray(array, dtype=_DTYPES[kind]).tobytes()
        entries.append(
            {"name": name, "dtype": kind, "shape": list(array.shape), "offset": offset, "nbytes": len(data)}
        )
        blobs.append(data + b"\0" * (-len(data) % 8))
        offset += len(blobs[-1])
    header = json.dumps(
        {"meta": dict(meta), "arrays": entries}, separators=(",", ":"), allow_nan=False
    ).encode()
    header += b" " * (-(len(header) + 8) % 8)
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(blobs)


def unpack_arrays(payload: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The inverse of :func:`pack_arrays`."""
    if payload[:4] != MAGIC:
        raise ValueError("not an A4G3 payload")
    (length,) = struct.unpack_from("<I", payload, 4)
    header = json.loads(payload[8 : 8 + length])
    base = 8 + length
    arrays = {
        e["name"]: np.frombuffer(
            payload, dtype=_DTYPES[e["dtype"]], count=int(np.prod(e["shape"])), offset=base + e["offset"]
        ).reshape(e["shape"])
        for e in header["arrays"]
    }
    return header["meta"], arrays
