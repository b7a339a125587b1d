"""The library's exception hierarchy: every error it raises on purpose is an :class:`Ai4geoError`.

Subclasses also derive from the closest built-in exception (``ValueError``, ``LookupError``,
``ConnectionError``...) so that code written against the standard library catches them too.
"""

from __future__ import annotations

__all__ = [
    "Ai4geoError",
    "ConfigurationError",
    "CatalogError",
    "InvalidSearchError",
    "InvalidBBoxError",
    "InvalidDateRangeError",
    "InvalidGeometryError",
    "UnknownCollectionError",
    "UnknownProviderError",
    "ProviderUnreachableError",
    "DownloadError",
    "RasterError",
    "CorruptRasterError",
    "MissingCRSError",
    "EmptyRasterError",
    "GridMismatchError",
    "PathNotAllowedError",
    "ServiceError",
    "VectorError",
    "PointCloudError",
    "MeshError",
    "ClusterError",
    "StereoError",
    "MissingRPCError",
    "BandCountError",
    "NonOverlappingPairError",
    "StereoRunError",
    "StereoTimeoutError",
    "TerrainError",
    "DTMExtractionError",
    "http_status",
    "http_reason",
]


class Ai4geoError(Exception):
    """Base class of every error raised by ``ai4geo_kernel``."""


class ConfigurationError(Ai4geoError, ValueError):
    """A setting (environment variable, dask config key, argument) has a value the library cannot use."""


class CatalogError(Ai4geoError):
    """Base class of catalog search and download errors."""


class InvalidSearchError(CatalogError, ValueError):
    """A search parameter is malformed; ``parameter`` names it (``bbox``, ``start``, ``geometry``...)."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class InvalidBBoxError(InvalidSearchError):
    """A bounding box is inverted, out of the WGS84 range, or does not have four numbers."""

    def __init__(self, message: str) -> None:
        super().__init__(message, parameter="bbox")


class InvalidDateRangeError(InvalidSearchError):
    """A date cannot be parsed, or the end of the range comes before its start."""

    def __init__(self, message: str, *, parameter: str = "end") -> None:
        super().__init__(message, parameter=parameter)


class InvalidGeometryError(InvalidSearchError):
    """A search geometry is not valid GeoJSON / WKT / shapely, or is invalid as a polygon."""

    def __init__(self, message: str) -> None:
        super().__init__(message, parameter="geometry")


class UnknownCollectionError(CatalogError, LookupError):
    """The collection does not exist at the provider; ``known`` lists the ones that do."""

    def __init__(self, collection: str, known: list[str], *, provider: str | None = None) -> None:
        where = f" at provider {provider!r}" if provider else ""
        shown = ", ".join(sorted(known)) if known else "none"
        super().__init__(f"unknown collection {collection!r}{where}; known collections: {shown}")
        self.collection = collection
        self.known = sorted(known)
        self.provider = provider
        self.parameter = "collection"


class UnknownProviderError(CatalogError, LookupError):
    """The provider is not configured in EODAG."""

    def __init__(self, provider: str, known: list[str]) -> None:
        super().__init__(f"unknown provider {provider!r}; configured providers: {', '.join(sorted(known))}")
        self.provider = provider
        self.known = sorted(known)
        self.parameter = "provider"


class ProviderUnreachableError(CatalogError, ConnectionError):
    """The provider did not answer (connection refused, timeout, server error)."""

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"provider {provider!r} is unreachable: {detail}")
        self.provider = provider


class DownloadError(CatalogError):
    """An asset could not be downloaded; nothing partial is left at the destination."""


class RasterError(Ai4geoError):
    """Base class of raster reading and writing errors."""


class CorruptRasterError(RasterError, ValueError):
    """A raster file cannot be decoded."""


class MissingCRSError(RasterError, ValueError):
    """A raster or array carries no coordinate reference system where one is needed."""


class EmptyRasterError(RasterError, ValueError):
    """A raster (or the part of it an operation needs) holds no valid pixel: every value is nodata."""


class GridMismatchError(RasterError, ValueError):
    """Two rasters that must share one pixel grid (CRS, transform, shape) do not."""


class PathNotAllowedError(RasterError, PermissionError):
    """A path leaves the folder it must stay in (``..``, an absolute path, a symlink out), or a URL is not
    in the allow-list."""


class VectorError(Ai4geoError, ValueError):
    """A file cannot be read as vector features or a 3D city model (not GeoJSON/GeoPackage/FlatGeobuf/
    shapefile/CityJSON/CityGML, corrupt, or lacking a needed field such as a height)."""


class PointCloudError(Ai4geoError, ValueError):
    """A point cloud (LAS/LAZ, PLY) cannot be read or lacks x, y, z."""


class MeshError(Ai4geoError, ValueError):
    """A triangle mesh (glTF/GLB) cannot be read or written."""


class ServiceError(Ai4geoError, RuntimeError):
    """A service started by the library (demo STAC API, asset server, tile server) failed to start or
    answer."""


class ClusterError(Ai4geoError, RuntimeError):
    """A Dask cluster could not be configured or started."""


class StereoError(Ai4geoError):
    """Base class of the errors of stereo reconstruction (:mod:`ai4geo_kernel.stereo`)."""


class MissingRPCError(StereoError, ValueError):
    """A sensor image has no RPC model: none in its GeoTIFF tags, no sidecar (``.geom``, DIMAP, ``.RPB``)."""


class BandCountError(StereoError, ValueError):
    """A sensor image does not have the number of bands the matching needs (one panchromatic band)."""


class NonOverlappingPairError(StereoError, ValueError):
    """The two images of a pair do not see a common ground area at any height of the search range."""


class StereoRunError(StereoError, RuntimeError):
    """The stereo tool (CARS) failed; the message ends with the tail of its log, ``log`` is the full log."""

    def __init__(self, message: str, *, log: str | None = None, returncode: int | None = None) -> None:
        super().__init__(message)
        self.log = log
        self.returncode = returncode


class StereoTimeoutError(StereoRunError, TimeoutError):
    """The stereo tool ran past its time limit and was stopped with every process it started."""


class TerrainError(Ai4geoError):
    """Base class of the errors of terrain extraction (:mod:`ai4geo_kernel.terrain`)."""


class DTMExtractionError(TerrainError, RuntimeError):
    """The DTM extractor (Bulldozer) failed, or returned a DTM with no valid cell where the DSM had some."""


# One table for every server extension (catalog panel, 2D and 3D viewers): which HTTP status answers an
# error the library raised. Order matters: the first matching class wins.
_HTTP_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (PathNotAllowedError, 403),
    (FileNotFoundError, 404),
    (ProviderUnreachableError, 502),
    (InvalidSearchError, 400),
    (UnknownCollectionError, 400),
    (UnknownProviderError, 400),
    (CatalogError, 502),  # a provider answered but the search or download failed there
    (RasterError, 422),  # the file exists but cannot be used (corrupt, no CRS, empty, other grid)
    (ConfigurationError, 400),
    (VectorError, 400),
    (PointCloudError, 400),
    (MeshError, 400),
    (ValueError, 400),
)


def http_status(error: BaseException) -> int | None:
    """The HTTP status a server endpoint answers for ``error``.

    Parameters
    ----------
    error
        An exception raised by a library call made for a request.

    Returns
    -------
    int or None
        403 (path outside the root or the allow-list), 404 (no such file), 400 (bad parameter or input
        file), 422 (a raster that cannot be used), 502 (a provider failed); None when the error is not the
        client's doing and the server should answer 500.
    """
    for kind, status in _HTTP_STATUS:
        if isinstance(error, kind):
            return status
    return None


def http_reason(error: BaseException) -> str:
    """The HTTP reason phrase for ``error``: its first line as printable ASCII without ``<>&`` (tornado
    answers "Unknown" for a reason with markup characters), at most 200 characters. Refused and missing
    paths get a fixed phrase, so an answer never shows a server-side path."""
    if isinstance(error, PathNotAllowedError):
        return "path not allowed"
    if isinstance(error, FileNotFoundError):
        return "no such file"
    text = (str(error).splitlines() or [type(error).__name__])[0]
    return "".join(c if " " <= c <= "~" and c not in "<>&" else "?" for c in text)[:200]
