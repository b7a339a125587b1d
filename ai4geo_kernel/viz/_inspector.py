"""The value inspector of a map: click a point, read every band of every raster layer shown by ``show()``."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from ai4geo_kernel.viz._layers import Layer

__all__ = ["ValueInspector", "inspector_for", "inspection_html"]


def _format(value: float | None) -> str:
    if value is None:
        return "nodata"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def inspection_html(
    lon: float, lat: float, readings: Sequence[tuple[str, list[tuple[str, float | None]]]]
) -> str:
    """HTML of a click's values: the point in WGS84, then each layer's bands and values (escaped)."""
    parts = [
        "<div class='ai4geo-inspector' style='font: 11px sans-serif; padding: 4px 6px; max-width: 320px'>",
        f"<div>WGS84 lon {lon:.6f}, lat {lat:.6f}</div>",
    ]
    for name, values in readings:
        parts.append(f"<div style='font-weight: bold; margin-top: 2px'>{html.escape(name)}</div>")
        if not values:
            parts.append("<div><i>outside the layer</i></div>")
            continue
        rows = "".join(
            f"<tr><td style='padding-right: 6px'>{html.escape(band)}</td>"
            f"<td class='ai4geo-value' style='font-family: monospace'>{_format(value)}</td></tr>"
            for band, value in values
        )
        parts.append(f"<table>{rows}</table>")
    parts.append("</div>")
    return "".join(parts)


class ValueInspector:
    """Reads the raster layers of one map where the user clicks and shows the values in a map control.

    Parameters
    ----------
    m : ipyleaflet.Map
        The map; the inspector listens to its click interactions.
    """

    def __init__(self, m: Any) -> None:
        import ipyleaflet
        import ipywidgets

        self.layers: list[Layer] = []
        self.widget = ipywidgets.HTML(
            value="<div style='font: 11px sans-serif; padding: 2px 6px'>click the map to read values</div>"
        )
        self.control = ipyleaflet.WidgetControl(widget=self.widget, position="bottomleft")
        self.last: tuple[float, float, list[tuple[str, list[tuple[str, float | None]]]]] | None = None
        m.add(self.control)
        m.on_interaction(self._on_interaction)

    def add(self, layer: Layer) -> None:
        """Read ``layer`` too on the next clicks."""
        self.layers.append(layer)

    def inspect(self, lon: float, lat: float) -> list[tuple[str, list[tuple[str, float | None]]]]:
        """Values of every layer at ``lon, lat`` (WGS84), shown in the control and returned."""
        readings = [(layer.name, layer.source.point(lon, lat)) for layer in self.layers]
        self.last = (lon, lat, readings)
        self.widget.value = inspection_html(lon, lat, readings)
        return readings

    def _on_interaction(self, **event: Any) -> None:
        if event.get("type") != "click":
            return
        try:
            lat, lon = (float(v) for v in event.get("coordinates", ())[:2])
        except (TypeError, ValueError):
            return
        if math.isfinite(lat) and math.isfinite(lon):
            # wrap longitudes of a map panned around the world back into [-180, 180)
            self.inspect((lon + 180.0) % 360.0 - 180.0, lat)


def inspector_for(m: Any) -> ValueInspector:
    """The map's inspector, made on first use (one per map, whatever the number of ``show`` calls)."""
    found = getattr(m, "_ai4geo_inspector", None)
    if found is None:
        found = ValueInspector(m)
        m._ai4geo_inspector = found
    return found
