"""Turn a tile read into PNG bytes: rescale to 8 bits, colormap, nodata as transparency."""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ai4geo_kernel.tiles._geometry import TILE_SIZE
from ai4geo_kernel.tiles._style import Range

__all__ = [
    "PNG_ZLEVEL",
    "FORMATS",
    "render_png",
    "render_image",
    "transparent_png",
    "transparent_image",
    "colormap_table",
]

#: Image formats of tiles: URL suffix -> (rio-tiler driver, media type).
FORMATS: dict[str, tuple[str, str]] = {"png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}

#: zlib level of the PNG tiles: level 1 encodes about twice as fast as GDAL's default 6 for a few
#: percent more bytes, a good trade for tiles that travel over loopback.
PNG_ZLEVEL = 1


@functools.cache
def transparent_png() -> bytes:
    """A fully transparent 256 x 256 PNG, answered for tiles outside a layer."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (TILE_SIZE, TILE_SIZE), (0, 0, 0, 0)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@functools.cache
def transparent_image(fmt: str = "png") -> bytes:
    """A fully transparent 256 x 256 tile in ``fmt`` (``png`` or ``webp``)."""
    if fmt == "png":
        return transparent_png()
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (TILE_SIZE, TILE_SIZE), (0, 0, 0, 0)).save(buffer, format="WEBP", lossless=True)
    return buffer.getvalue()


@functools.cache
def colormap_table(name: str) -> dict[int, tuple[int, int, int, int]]:
    """The 256-entry RGBA table of a rio-tiler colormap."""
    from rio_tiler.colormap import cmap

    return cmap.get(name)


def render_png(image: Any, *, rescale: Sequence[Range], colormap: str | None = None) -> bytes:
    """Render a rio-tiler ``ImageData`` as PNG.

    Parameters
    ----------
    image : rio_tiler.models.ImageData
        One band or three; masked pixels (nodata, NaN, outside the raster) become transparent.
    rescale : sequence of (float, float)
        Value range mapped linearly to 0..255 (one per band, or one for all); values outside are
        clipped.
    colormap : str, optional
        rio-tiler colormap name for a single band.

    Returns
    -------
    bytes
        PNG with an alpha channel (grey + alpha, RGB + alpha, or colormapped RGBA).
    """
    return render_image(image, rescale=rescale, colormap=colormap, fmt="png")


def render_image(
    image: Any,
    *,
    rescale: Sequence[Range] | None,
    colormap: str | None = None,
    categories: Mapping[int, tuple[int, int, int, int]] | None = None,
    fmt: str = "png",
) -> bytes:
    """Render a rio-tiler ``ImageData`` as PNG or WebP (see :func:`render_png`).

    Parameters
    ----------
    categories : mapping of int to (r, g, b, a), optional
        A class map: each listed value gets its colour, every other value is transparent; no
        rescaling is applied (single band only).
    fmt : {"png", "webp"}
        Image format (WebP is lossless, with alpha).
    """
    driver = FORMATS[fmt][0]
    options: dict[str, Any] = {"ZLEVEL": PNG_ZLEVEL} if driver == "PNG" else {"LOSSLESS": True}
    if categories is not None:
        data = np.ma.getdata(image.array)
        mask = np.ma.getmaskarray(image.array)
        values = np.where(mask, -(2**31), np.nan_to_num(data, nan=-(2**31))).astype("int64")[0]
        rgba = np.zeros((4, *values.shape), dtype="uint8")
        for value, colour in categories.items():
            hit = values == int(value)
            for channel in range(4):
                rgba[channel][hit] = colour[channel]
        from rio_tiler.utils import render

        return render(rgba[:3], mask=rgba[3], img_format=driver, **options)
    image.array = np.ma.MaskedArray(
        image.array.data.astype("float64", copy=False), mask=np.ma.getmaskarray(image.array), fill_value=0
    )
    image.rescale(in_range=tuple(rescale or ((0.0, 255.0),)))
    table = colormap_table(colormap) if colormap else None
    return image.render(img_format=driver, colormap=table, **options)
