"""When the simulated sensors look at the area, and where the sun stands then.

All datetimes are timezone-aware UTC. Sun angles come from the NOAA low-precision solar position
formulas (about 0.01 degree, plenty for cast shadows).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from ai4geo_kernel.demo._grid import CENTER_LAT, CENTER_LON

__all__ = [
    "VHR_DATETIME",
    "S2_FIRST",
    "S2_STEP_DAYS",
    "S2_COUNT",
    "S1_FIRST",
    "S1_STEP_DAYS",
    "S1_COUNT",
    "YEAR_START",
    "YEAR_END",
    "s2_datetimes",
    "s1_datetimes",
    "sun_position",
]

#: Acquisition of the (Pleiades-like) VHR image and of the stereo pair behind the DSM.
VHR_DATETIME = datetime(2024, 4, 9, 10, 52, 12, tzinfo=UTC)
#: Sentinel-2-like series: every 15 days (a multiple of the 5-day revisit), morning pass.
S2_FIRST = datetime(2024, 1, 6, 10, 50, 31, tzinfo=UTC)
S2_STEP_DAYS = 15
S2_COUNT = 24
#: Sentinel-1-like series: every 12 days (one satellite's repeat cycle), evening ascending pass.
S1_FIRST = datetime(2024, 1, 4, 17, 42, 18, tzinfo=UTC)
S1_STEP_DAYS = 12
S1_COUNT = 31
#: The year the series cover.
YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)


def s2_datetimes() -> tuple[datetime, ...]:
    """Acquisition datetimes of the Sentinel-2-like series (24 dates over 2024)."""
    return tuple(S2_FIRST + timedelta(days=S2_STEP_DAYS * k) for k in range(S2_COUNT))


def s1_datetimes() -> tuple[datetime, ...]:
    """Acquisition datetimes of the Sentinel-1-like series (31 dates over 2024)."""
    return tuple(S1_FIRST + timedelta(days=S1_STEP_DAYS * k) for k in range(S1_COUNT))


def sun_position(when: datetime, *, lon: float = CENTER_LON, lat: float = CENTER_LAT) -> tuple[float, float]:
    """Sun azimuth (degrees clockwise from north) and elevation (degrees above the horizon).

    Parameters
    ----------
    when
        A timezone-aware datetime.
    lon, lat
        Observer position in degrees (default: the centre of the demo area).

    Returns
    -------
    tuple of float
        ``(azimuth, elevation)`` rounded to 0.01 degree.
    """
    days = when.timestamp() / 86400.0 + 2440587.5 - 2451545.0  # days since J2000.0
    mean_longitude = (280.460 + 0.9856474 * days) % 360.0
    anomaly = math.radians((357.528 + 0.9856003 * days) % 360.0)
    ecliptic_longitude = math.radians(
        mean_longitude + 1.915 * math.sin(anomaly) + 0.020 * math.sin(2 * anomaly)
    )
    obliquity = math.radians(23.439 - 0.0000004 * days)
    right_ascension = math.atan2(
        math.cos(obliquity) * math.sin(ecliptic_longitude), math.cos(ecliptic_longitude)
    )
    declination = math.asin(math.sin(obliquity) * math.sin(ecliptic_longitude))
    sidereal_hours = (18.697374558 + 24.06570982441908 * days) % 24.0
    hour_angle = math.radians(sidereal_hours * 15.0 + lon) - right_ascension
    phi = math.radians(lat)
    elevation = math.asin(
        math.sin(phi) * math.sin(declination) + math.cos(phi) * math.cos(declination) * math.cos(hour_angle)
    )
    azimuth = math.atan2(
        -math.sin(hour_angle), math.tan(declination) * math.cos(phi) - math.sin(phi) * math.cos(hour_angle)
    )
    return round(math.degrees(azimuth) % 360.0, 2), round(math.degrees(elevation), 2)
