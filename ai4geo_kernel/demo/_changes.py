"""The known changes of the demo year: what changes where and when (the truth of the SAR series).

Each reserved site of the scene carries one change:

- ``construction`` (a *step* increase): a building rises on bare soil and stays;
- ``flooding`` (a *step* decrease): a meadow near the river is flooded and stays under water;
- ``fair`` (a *peak*): a car park is packed with vehicles on a single date;
- ``moored_barges`` (a *peak*): barges moor on the river on a single date.

Dates are Sentinel-1-like acquisition indices, **1-based** (``date_index = k + 1`` for
``s1_dates[k]``), so that 0 can mean "no change" in the change map: a step is dated by the first
acquisition that shows the new state, a peak by the only acquisition that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import shapely

from ai4geo_kernel.demo._scene import Site

__all__ = [
    "KIND_CODES",
    "CAUSE_OF_SITE",
    "ChangeEvent",
    "plan_changes",
    "with_amplitudes",
]

#: Codes of band 2 (``kind``) of the change map.
KIND_CODES = {"none": 0, "step_increase": 1, "step_decrease": 2, "peak": 3}
#: The change each kind of site undergoes.
CAUSE_OF_SITE = {
    "construction": "construction",
    "field": "flooding",
    "car_park": "fair",
    "mooring": "moored_barges",
}
_KIND_OF_CAUSE = {"construction": "step", "flooding": "step", "fair": "peak", "moored_barges": "peak"}
_DIRECTION_OF_CAUSE = {
    "construction": "increase",
    "flooding": "decrease",
    "fair": "increase",
    "moored_barges": "increase",
}


@dataclass(frozen=True)
class ChangeEvent:
    """One known change of the SAR series.

    Attributes
    ----------
    id
        Identifier, from 1.
    kind
        ``step`` (changes once and stays) or ``peak`` (one date only).
    cause
        ``construction``, ``flooding``, ``fair`` or ``moored_barges``.
    direction
        ``increase`` or ``decrease`` of the backscatter.
    date_index
        1-based index of the Sentinel-1-like acquisition where the change first shows (steps) or
        the only one where it shows (peaks).
    date
        That acquisition's datetime (UTC).
    site
        Where it happens: a rectangle of whole 10 m cells.
    amplitude_db_vv, amplitude_db_vh
        Change of the mean backscatter over the site, ``10 log10(after / before)`` of the noise-free
        intensity (equal to ``20 log10`` of the amplitude ratio), in dB.
    """

    id: int
    kind: str
    cause: str
    direction: str
    date_index: int
    date: datetime
    site: Site
    amplitude_db_vv: float = 0.0
    amplitude_db_vh: float = 0.0

    @property
    def polygon(self) -> shapely.Polygon:
        """The site in pixel metres."""
        return self.site.polygon

    @property
    def kind_code(self) -> int:
        """Value in band 2 of the change map (:data:`KIND_CODES`)."""
        if self.kind == "peak":
            return KIND_CODES["peak"]
        return KIND_CODES["step_increase" if self.direction == "increase" else "step_decrease"]


def plan_changes(
    sites: tuple[Site, ...], s1_dates: tuple[datetime, ...], rng: np.random.Generator
) -> tuple[ChangeEvent, ...]:
    """Give each site its change and its date.

    Steps happen between the 11th and the 24th acquisitions (after the VHR image of April, so that the
    image shows the state before; at least 10 acquisitions on each side); peaks anywhere between the
    5th and the 28th, never on the same date as another peak.
    """
    events = []
    used_peaks: set[int] = set()
    count = len(s1_dates)
    for site in sites:
        cause = CAUSE_OF_SITE[site.kind]
        kind = _KIND_OF_CAUSE[cause]
        if kind == "step":
            low, high = (11, 18) if cause == "construction" else (16, 24)
            index = int(rng.integers(low, min(high, count - 7) + 1))
        else:
            choices = [k for k in range(5, min(28, count - 1) + 1) if k not in used_peaks]
            index = int(rng.choice(choices))
            used_peaks.add(index)
        events.append(
            ChangeEvent(
                id=len(events) + 1,
                kind=kind,
                cause=cause,
                direction=_DIRECTION_OF_CAUSE[cause],
                date_index=index,
                date=s1_dates[index - 1],
                site=site,
            )
        )
    return tuple(events)


def with_amplitudes(event: ChangeEvent, vv_db: float, vh_db: float) -> ChangeEvent:
    """The event with its measured (noise-free) amplitudes of change."""
    return replace(event, amplitude_db_vv=round(float(vv_db), 2), amplitude_db_vh=round(float(vh_db), 2))
