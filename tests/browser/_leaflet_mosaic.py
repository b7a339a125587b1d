"""What a Leaflet map in the page should look like, rebuilt in Python from its tile layers, and how far the
screenshot is from it.

The page is asked, for each tile layer of one map, for its opacity, stacking order and the tiles it shows
(URL and box on screen). From one tile's URL (``.../{z}/{x}/{y}.png?...``) and box the map's zoom and pixel
origin follow; the test then fetches *the tiles of the map's own zoom* from the same server, pastes them where
Leaflet puts tiles, blends the layers with their opacities over the map's background, and compares that
mosaic with the screenshot, pixel by pixel. A map that enlarges tiles of another zoom (blur, steps at tile
edges), or draws tiles out of place, differs from it; a correct one does not (up to alpha rounding).

Seams are measured apart: the mean jump in colour across the edges of the tiles the browser shows, divided by
the mean jump between neighbouring columns/rows just inside the tiles.
"""

from __future__ import annotations

import io
import math
import re
import urllib.request
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["MapReading", "read_map", "expected_mosaic", "seam_ratio"]

_TILE_URL = re.compile(r"/(\d{1,2})/(\d{1,9})/(\d{1,9})\.(png|webp)")

_COLLECT = """
(container) => {
  const box = container.getBoundingClientRect();
  const layers = [...container.querySelectorAll('.leaflet-layer')].map((layer, order) => {
    const tiles = [...layer.querySelectorAll('img.leaflet-tile')].map(img => {
      const r = img.getBoundingClientRect();
      return {src: img.src, loaded: img.classList.contains('leaflet-tile-loaded'),
              left: r.left - box.left, top: r.top - box.top, width: r.width, height: r.height};
    });
    const style = getComputedStyle(layer);
    return {order, opacity: Number(style.opacity), zIndex: Number(style.zIndex) || 0, tiles};
  }).filter(layer => layer.tiles.length);
  const controls = [...container.querySelectorAll('.leaflet-control')].map(c => {
    const r = c.getBoundingClientRect();
    return [r.left - box.left, r.top - box.top, r.right - box.left, r.bottom - box.top];
  });
  return {width: box.width, height: box.height, background: getComputedStyle(container).backgroundColor,
          layers, controls};
}
"""


@dataclass
class MapReading:
    """The map as the page reports it, with its screenshot (``H x W x 3`` uint8)."""

    width: int
    height: int
    background: tuple[int, int, int]
    layers: list[dict]
    controls: list[list[float]]
    screenshot: np.ndarray


def read_map(container) -> MapReading:  # type: ignore[no-untyped-def]
    """Layers and tiles of the Leaflet map in ``container`` (a Playwright locator), and its screenshot."""
    found = container.evaluate(_COLLECT)
    shot = np.asarray(Image.open(io.BytesIO(container.screenshot())).convert("RGB"))
    rgb = tuple(int(v) for v in re.findall(r"\d+", found["background"])[:3])
    return MapReading(
        width=shot.shape[1],
        height=shot.shape[0],
        background=rgb,  # type: ignore[arg-type]
        layers=sorted(found["layers"], key=lambda layer: (layer["zIndex"], layer["order"])),
        controls=found["controls"],
        screenshot=shot,
    )


def _fetch(url: str, token: str | None) -> np.ndarray:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (127.0.0.1 only, checked by callers)
        return np.asarray(Image.open(io.BytesIO(answer.read())).convert("RGBA")).astype("float64")


def expected_mosaic(reading: MapReading, *, token: str | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """The map rebuilt from tiles of its own zoom: ``(rgb float H x W x 3, covered mask, zoom)``.

    ``covered`` is true where every layer has an opaque pixel, away from the map's controls.
    """
    height, width = reading.height, reading.width
    canvas = np.empty((height, width, 3), dtype="float64")
    canvas[:] = reading.background
    covered = np.ones((height, width), dtype=bool)
    zoom = None
    for layer in reading.layers:
        tile = next(t for t in layer["tiles"] if t["loaded"] and _TILE_URL.search(t["src"]))
        match = _TILE_URL.search(tile["src"])
        z, x, y = (int(match[i]) for i in (1, 2, 3))
        scale = tile["width"] / 256.0
        zoom = z + round(math.log2(scale))
        # world pixel (at the map's zoom) that lies at the container's (0, 0)
        origin_x = x * 256 * scale - tile["left"]
        origin_y = y * 256 * scale - tile["top"]
        alpha_layer = np.zeros((height, width), dtype="float64")
        rgb_layer = np.zeros((height, width, 3), dtype="float64")
        for tx in range(math.floor(origin_x / 256), math.floor((origin_x + width) / 256) + 1):
            for ty in range(math.floor(origin_y / 256), math.floor((origin_y + height) / 256) + 1):
                if not (0 <= tx < 2**zoom and 0 <= ty < 2**zoom):
                    continue
                url = _TILE_URL.sub(f"/{zoom}/{tx}/{ty}.{match[4]}", tile["src"], count=1)
                image = _fetch(url, token)
                left, top = round(tx * 256 - origin_x), round(ty * 256 - origin_y)
                x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + 256, width), min(top + 256, height)
                if x0 >= x1 or y0 >= y1:
                    continue
                part = image[y0 - top : y1 - top, x0 - left : x1 - left]
                rgb_layer[y0:y1, x0:x1] = part[..., :3]
                alpha_layer[y0:y1, x0:x1] = part[..., 3] / 255.0
        weight = (alpha_layer * layer["opacity"])[..., None]
        canvas = canvas * (1 - weight) + rgb_layer * weight
        covered &= alpha_layer >= 1.0
    # the raster's outline is anti-aliased by nobody, but keep 2 px off it and off the controls' boxes
    inner = covered.copy()
    for axis in (0, 1):
        for shift in (-2, -1, 1, 2):
            inner &= np.roll(covered, shift, axis=axis)
    for left, top, right, bottom in reading.controls:
        inner[
            max(0, int(top) - 2) : int(math.ceil(bottom)) + 2,
            max(0, int(left) - 2) : int(math.ceil(right)) + 2,
        ] = False
    return canvas, inner, int(zoom if zoom is not None else -1)


def seam_ratio(reading: MapReading, image: np.ndarray, mask: np.ndarray, *, band: int = 12) -> float | None:
    """Mean colour jump across the edges of the tiles the browser shows over the mean jump within ``band``
    pixels of those edges (1 for a seamless image; steps or blur at tile edges make it larger); ``None`` when
    no tile edge crosses the covered part of the map."""
    image = image.astype("float64")
    across: list[float] = []
    inside: list[float] = []
    edges_x: set[int] = set()
    edges_y: set[int] = set()
    for layer in reading.layers:
        for tile in layer["tiles"]:
            if tile["loaded"]:
                edges_x.update({round(tile["left"]), round(tile["left"] + tile["width"])})
                edges_y.update({round(tile["top"]), round(tile["top"] + tile["height"])})

    def jumps(position: int, axis: int) -> float | None:
        if axis == 1:
            if not 1 <= position < image.shape[1]:
                return None
            both = mask[:, position] & mask[:, position - 1]
            values = np.abs(image[:, position] - image[:, position - 1]).sum(axis=-1)[both]
        else:
            if not 1 <= position < image.shape[0]:
                return None
            both = mask[position] & mask[position - 1]
            values = np.abs(image[position] - image[position - 1]).sum(axis=-1)[both]
        return float(values.mean()) if values.size >= 32 else None

    for axis, edges in ((1, edges_x), (0, edges_y)):
        for edge in edges:
            at = jumps(edge, axis)
            near = [jumps(edge + k, axis) for k in range(-band, band + 1) if k not in (-1, 0, 1)]
            near = [value for value in near if value is not None]
            if at is not None and near:
                across.append(at)
                inside.append(float(np.mean(near)))
    if not across:
        return None
    return float(np.mean(across) / max(np.mean(inside), 1e-9))
