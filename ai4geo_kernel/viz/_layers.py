"""Layers registered in this process, known to the tile server only by opaque ids."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field

from ai4geo_kernel.tiles._sources import TileSource
from ai4geo_kernel.tiles._statistics import percentile_ranges
from ai4geo_kernel.tiles._style import Range, TileStyle

__all__ = ["LAYER_ID_PATTERN", "Layer", "LayerRegistry", "new_layer_id"]

#: Shape of every layer id: 22 URL-safe characters (128 random bits). Nothing else is looked up.
LAYER_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")


def new_layer_id() -> str:
    """A fresh unguessable id: it is the only key to a layer, never a path or a URL."""
    return secrets.token_urlsafe(16)


@dataclass
class Layer:
    """A raster shown in a map: its source, default style and cached automatic ranges."""

    id: str
    name: str
    source: TileSource
    style: TileStyle
    _auto_ranges: dict[tuple[int, ...], tuple[Range, ...]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def rescale_for(self, style: TileStyle) -> tuple[Range, ...]:
        """Explicit ranges of ``style``, else the 2nd-98th percentiles of its bands (computed once)."""
        if style.rescale is not None:
            return style.rescale
        with self._lock:
            if style.bands not in self._auto_ranges:
                sample = self.source.sample(bands=style.bands)
                self._auto_ranges[style.bands] = percentile_ranges(sample)
            return self._auto_ranges[style.bands]


class LayerRegistry:
    """Thread-safe table ``layer id -> Layer``."""

    def __init__(self) -> None:
        self._layers: dict[str, Layer] = {}
        self._lock = threading.Lock()

    def add(self, source: TileSource, style: TileStyle, *, name: str | None = None) -> Layer:
        """Register ``source`` under a new id and return its :class:`Layer`."""
        layer = Layer(id=new_layer_id(), name=name or source.name, source=source, style=style)
        with self._lock:
            self._layers[layer.id] = layer
        return layer

    def get(self, layer_id: str) -> Layer | None:
        """The layer of ``layer_id``, or ``None`` for anything that is not a registered id."""
        if not isinstance(layer_id, str) or not LAYER_ID_PATTERN.fullmatch(layer_id):
            return None
        with self._lock:
            return self._layers.get(layer_id)

    def remove(self, layer_id: str) -> bool:
        """Forget a layer and close its source; ``False`` if it was not registered."""
        with self._lock:
            layer = self._layers.pop(layer_id, None)
        if layer is None:
            return False
        layer.source.close()
        return True

    def clear(self) -> None:
        """Remove every layer."""
        with self._lock:
            layers, self._layers = list(self._layers.values()), {}
        for layer in layers:
            layer.source.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._layers)

    def __contains__(self, layer_id: object) -> bool:
        return isinstance(layer_id, str) and self.get(layer_id) is not None
