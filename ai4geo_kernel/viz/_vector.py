"""Vector layers on the map: a GeoDataFrame as an ipyleaflet GeoJSON layer, its attributes on hover/click."""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ai4geo_kernel.errors import ConfigurationError, MissingCRSError

__all__ = ["DEFAULT_STYLE", "DEFAULT_HOVER_STYLE", "MAX_FEATURES", "vector_layer", "attributes_html"]

#: Leaflet path options of a new vector layer (orange outlines, light fill: readable over imagery).
DEFAULT_STYLE: dict[str, Any] = {"color": "#ff7f0e", "weight": 2, "opacity": 1.0, "fillOpacity": 0.2}
#: Style of the feature under the pointer.
DEFAULT_HOVER_STYLE: dict[str, Any] = {"weight": 4, "fillOpacity": 0.45}
#: Above this many features the browser slows down: a warning suggests filtering or a tile layer.
MAX_FEATURES = 50_000
#: Attribute rows shown for a feature.
_MAX_FIELDS = 30


def attributes_html(name: str, properties: Mapping[str, Any], fields: Sequence[str] | None = None) -> str:
    """An HTML table of a feature's attributes (escaped), for the map's attribute box."""
    keys = [
        key for key in (fields if fields is not None else properties) if key in properties and key != "style"
    ]
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{html.escape(str(key))}</th>"
        f"<td>{html.escape(str(properties[key]))}</td></tr>"
        for key in keys[:_MAX_FIELDS]
    )
    return (
        "<div class='ai4geo-attributes' style='font: 11px sans-serif; padding: 4px 6px; max-width: 320px'>"
        f"<b>{html.escape(name)}</b><table>{rows}</table></div>"
    )


def vector_layer(
    frame: Any,
    *,
    name: str,
    style: Mapping[str, Any] | None = None,
    hover_style: Mapping[str, Any] | None = None,
    fields: Sequence[str] | None = None,
) -> tuple[Any, Any]:
    """An ``ipyleaflet.GeoJSON`` layer of ``frame`` (reprojected to WGS84) and a box showing the attributes
    of the feature under the pointer (or clicked).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        With a CRS.
    name : str
        Layer name in the layers control.
    style, hover_style : mapping, optional
        Leaflet path options (``color``, ``weight``, ``fillColor``, ``fillOpacity``...), merged over
        :data:`DEFAULT_STYLE` / :data:`DEFAULT_HOVER_STYLE`.
    fields : sequence of str, optional
        Attribute columns shown (default: all but the geometry).

    Returns
    -------
    (ipyleaflet.GeoJSON, ipyleaflet.WidgetControl)

    Raises
    ------
    MissingCRSError
        If the frame has no CRS.
    ConfigurationError
        For ``fields`` that are not columns.
    """
    import ipyleaflet
    import ipywidgets

    if frame.crs is None:
        raise MissingCRSError("the GeoDataFrame has no CRS: set one with frame.set_crs('EPSG:...') first")
    columns = [column for column in frame.columns if column != frame.geometry.name]
    if fields is not None:
        unknown = [field for field in fields if field not in columns]
        if unknown:
            raise ConfigurationError(f"fields {unknown} are not columns; columns: {', '.join(columns)}")
    if len(frame) > MAX_FEATURES:
        warnings.warn(
            f"{len(frame)} features: the browser slows down above {MAX_FEATURES}; filter the frame first",
            UserWarning,
            stacklevel=3,
        )
    wgs84 = frame[~frame.geometry.isna() & ~frame.geometry.is_empty].to_crs("EPSG:4326")
    data = json.loads(wgs84.to_json(drop_id=True, default=str))
    layer = ipyleaflet.GeoJSON(
        data=data,
        name=name,
        style={**DEFAULT_STYLE, **dict(style or {})},
        hover_style={**DEFAULT_HOVER_STYLE, **dict(hover_style or {})},
        point_style={"radius": 5, **DEFAULT_STYLE, **dict(style or {})},
    )
    box = ipywidgets.HTML(value=attributes_html(name, {}, []))
    box.layout.display = "none"

    def show_attributes(feature: Mapping[str, Any] | None = None, properties: Any = None, **_: Any) -> None:
        found = properties if isinstance(properties, Mapping) else (feature or {}).get("properties", {})
        box.value = attributes_html(name, found or {}, fields)
        box.layout.display = None

    layer.on_hover(show_attributes)
    layer.on_click(show_attributes)
    return layer, ipyleaflet.WidgetControl(widget=box, position="bottomleft")
