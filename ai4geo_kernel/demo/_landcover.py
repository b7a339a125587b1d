"""The land-cover nomenclature of the demo truth maps (1 m and 10 m).

``0`` is no data; classes are numbered from 1. The same table is written to ``landcover_classes.json``
and to the STAC ``classification:classes`` of the land-cover assets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "NODATA",
    "BUILDING",
    "ROAD",
    "TREE",
    "GRASS",
    "WATER",
    "BARE_SOIL",
    "LandcoverClass",
    "LANDCOVER_CLASSES",
    "classes_as_stac",
    "classes_as_json",
]

NODATA = 0
BUILDING = 1
ROAD = 2
TREE = 3
GRASS = 4
WATER = 5
BARE_SOIL = 6


@dataclass(frozen=True)
class LandcoverClass:
    """One class of the nomenclature."""

    value: int
    name: str
    description: str
    color: str


#: The classes, by value.
LANDCOVER_CLASSES: tuple[LandcoverClass, ...] = (
    LandcoverClass(BUILDING, "building", "Roofs of buildings (footprints seen from above)", "#d7301f"),
    LandcoverClass(ROAD, "road", "Roads, bridges, sidewalks, car parks and other paved ground", "#969696"),
    LandcoverClass(TREE, "tree", "High vegetation: tree crowns (5 m and higher)", "#1a7b30"),
    LandcoverClass(GRASS, "grass", "Low vegetation: lawns, parks, meadows", "#a6d96a"),
    LandcoverClass(WATER, "water", "Open water: the river", "#2b83ba"),
    LandcoverClass(BARE_SOIL, "bare_soil", "Bare soil: vacant lots, construction sites", "#c8a165"),
)


def classes_as_stac() -> list[dict[str, Any]]:
    """The table as STAC ``classification:classes`` objects (value, name, description, color_hint)."""
    return [
        {"value": c.value, "name": c.name, "description": c.description, "color_hint": c.color.lstrip("#")}
        for c in LANDCOVER_CLASSES
    ]


def classes_as_json() -> dict[str, Any]:
    """The table as the content of ``landcover_classes.json``."""
    return {
        "nodata": NODATA,
        "classes": [
            {"value": c.value, "name": c.name, "description": c.description, "color": c.color}
            for c in LANDCOVER_CLASSES
        ],
    }
