"""A small colorbar for single-band colormapped layers, drawn in HTML (no image, no network)."""

from __future__ import annotations

import html
from typing import Any

from ai4geo_kernel.tiles._rendering import colormap_table
from ai4geo_kernel.tiles._style import Range

__all__ = ["colorbar_html", "colorbar_control"]

#: Colour stops sampled from the 256-entry table for the CSS gradient.
_STOPS = 16


def colorbar_html(name: str, colormap: str, value_range: Range) -> str:
    """HTML of a horizontal colorbar: the layer name, a gradient of ``colormap``, min and max labels."""
    table = colormap_table(colormap)
    stops = []
    for step in range(_STOPS + 1):
        index = round(step * 255 / _STOPS)
        red, green, blue, alpha = table[index]
        stops.append(f"rgba({red},{green},{blue},{alpha / 255:.3f}) {100 * step / _STOPS:.1f}%")
    low, high = value_range
    return (
        '<div class="ai4geo-colorbar" style="font: 11px sans-serif; padding: 4px 6px; '
        'background: rgba(255,255,255,0.85); border-radius: 4px; width: 180px">'
        f'<div style="font-weight: bold; margin-bottom: 2px">{html.escape(name)}</div>'
        f'<div title="{html.escape(colormap)}" style="height: 10px; '
        f'background: linear-gradient(to right, {", ".join(stops)})"></div>'
        '<div style="display: flex; justify-content: space-between">'
        f"<span>{low:.4g}</span><span>{high:.4g}</span></div></div>"
    )


def colorbar_control(name: str, colormap: str, value_range: Range, *, position: str = "bottomright") -> Any:
    """An ``ipyleaflet.WidgetControl`` holding :func:`colorbar_html`."""
    import ipyleaflet
    import ipywidgets

    widget = ipywidgets.HTML(value=colorbar_html(name, colormap, value_range))
    return ipyleaflet.WidgetControl(widget=widget, position=position)
