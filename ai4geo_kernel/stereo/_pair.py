"""DSMs from stereo pairs with CARS, one Dask task per pair, on a cluster of :mod:`ai4geo_kernel.compute`."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import xarray as xr
from tqdm.auto import tqdm

from ai4geo_kernel.errors import ConfigurationError
from ai4geo_kernel.stereo._cars import cars_config, run_cars
from ai4geo_kernel.stereo._sensor import SensorImage, check_pair, sensor_image

__all__ = ["DEFAULT_TIMEOUT", "StereoPair", "dsm_from_pair", "dsms_from_pairs", "open_dsm"]

#: Default wall-clock limit of one CARS run (seconds).
DEFAULT_TIMEOUT = 3600.0

#: A sensor image: its path (RPC in its tags or beside it), or ``(image, geomodel)``.
ImageInput = str | os.PathLike[str] | tuple[str | os.PathLike[str], str | os.PathLike[str]]
#: A stereo pair: ``(left, right)``.
StereoPair = tuple[ImageInput, ImageInput]


def _sensor(value: ImageInput) -> SensorImage:
    if isinstance(value, SensorImage):
        return value
    if isinstance(value, tuple):
        image, geomodel = value
        return sensor_image(image, geomodel)
    return sensor_image(value)


def _pair_name(left: SensorImage, right: SensorImage) -> str:
    """A short name of the pair for progress bars and task keys: the file stems, or their folders."""
    if left.image.stem != right.image.stem:
        return f"{left.image.stem}/{right.image.stem}"
    return f"{left.image.parent.name}/{right.image.parent.name}"


def open_dsm(path: str | os.PathLike[str]) -> xr.DataArray:
    """Open a DSM COG as a 2D DataArray: float32 heights, nodata as NaN, CRS and transform kept.

    Parameters
    ----------
    path
        The COG written by :func:`dsm_from_pair`.
    """
    import rioxarray

    dsm = rioxarray.open_rasterio(path, masked=True).squeeze("band", drop=True)
    dsm.name = "dsm"
    dsm.attrs.update(units="m", long_name="digital surface model")
    return dsm


@contextlib.contextmanager
def _progress_bars(names: Sequence[str], enabled: bool) -> Iterator[list[Callable[[dict[str, Any]], None]]]:
    """One bar per pair: CARS's current task and its percentage."""
    bars = [
        tqdm(total=100, desc=f"{name}: starting", unit="%", disable=not enabled, position=i, leave=True)
        for i, name in enumerate(names)
    ]

    def updater(bar: tqdm, name: str) -> Callable[[dict[str, Any]], None]:
        def update(event: dict[str, Any]) -> None:
            if "task" in event:
                bar.set_description_str(f"{name}: {event['task']}", refresh=False)
            bar.n = int(event.get("percent", bar.n))
            bar.refresh()

        return update

    try:
        yield [updater(bar, name) for bar, name in zip(bars, names, strict=True)]
    finally:
        for bar in bars:
            bar.close()


def _client(client: Any) -> Any:
    if client is not None:
        return client
    from ai4geo_kernel.compute import current_client

    return current_client()


def dsms_from_pairs(
    pairs: Sequence[StereoPair],
    *,
    outputs: Sequence[str | os.PathLike[str]],
    resolution: float | None = None,
    initial_elevation: str | os.PathLike[str] | None = None,
    geoid: str | os.PathLike[str] | bool | None = None,
    epsg: int | None = None,
    height_margins: tuple[float, float] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    client: Any = None,
    workers: int = 2,
    progress: bool = True,
) -> list[xr.DataArray]:
    """DSMs of several stereo pairs, one CARS run per pair, each a task on the Dask cluster.

    Parameters are those of :func:`dsm_from_pair`; ``outputs`` gives one COG per pair (each run's folder
    is ``<output stem>.cars/`` beside it).

    Returns
    -------
    list of xarray.DataArray
        One DSM per pair, in order.
    """
    if len(outputs) != len(pairs):
        raise ConfigurationError(f"{len(pairs)} pairs but {len(outputs)} outputs: give one output per pair")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ConfigurationError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    if resolution is not None and not (isinstance(resolution, int | float) and resolution > 0):
        raise ConfigurationError(
            f"resolution must be a positive number of metres or None, got {resolution!r}"
        )
    dem = Path(initial_elevation).expanduser().absolute() if initial_elevation is not None else None
    if dem is not None and not dem.is_file():
        raise FileNotFoundError(f"initial elevation {dem} does not exist")
    geoid_value: Path | bool | None
    if isinstance(geoid, bool) or geoid is None:
        geoid_value = geoid
    else:
        geoid_value = Path(geoid).expanduser().absolute()
        if not geoid_value.is_file():
            raise FileNotFoundError(f"geoid grid {geoid_value} does not exist")
    if geoid_value is True:
        geoid_value = None  # CARS's own EGM96 geoid: its default
    # Every check that needs no CARS runs here, before any task: clear errors, early.
    jobs = []
    for (left_in, right_in), out in zip(pairs, outputs, strict=True):
        left, right = _sensor(left_in), _sensor(right_in)
        check_pair(left, right, dem=dem)
        output = Path(out).expanduser().absolute()
        run_dir = output.with_name(f"{output.stem}.cars")
        config = cars_config(
            (left.image, left.geomodel),
            (right.image, right.geomodel),
            run_dir / "out",
            resolution=resolution,
            initial_elevation=dem,
            geoid=geoid_value,
            epsg=epsg,
            workers=workers,
            height_margins=height_margins,
        )
        jobs.append((_pair_name(left, right), config, run_dir, output))
    names = [name for name, *_ in jobs]
    dask_client = _client(client)
    with _progress_bars(names, progress) as updates:
        if dask_client is None:  # no cluster: the same runs, one after the other, from this process
            results = [
                run_cars(config, run_dir, output, timeout=timeout, progress=update)
                for (_, config, run_dir, output), update in zip(jobs, updates, strict=True)
            ]
        else:
            results = _run_on_cluster(dask_client, jobs, updates, timeout)
    dsms = []
    for result in results:
        dsm = open_dsm(result["output"])
        dsm.attrs.update(
            vertical_datum=result["vertical_datum"],
            cars_run=result["run_dir"],
            cars_seconds=result["seconds"],
        )
        dsms.append(dsm)
    return dsms


def _run_on_cluster(
    client: Any,
    jobs: list[tuple[str, dict[str, Any], Path, Path]],
    updates: list[Callable[[dict[str, Any]], None]],
    timeout: float | None,
) -> list[dict[str, Any]]:
    """Submit one task per pair; relay each task's progress events (worker event log) to its bar."""
    token = secrets.token_hex(4)
    topics = [f"ai4geo-stereo-{token}-{i}" for i in range(len(jobs))]
    for topic, update in zip(topics, updates, strict=True):
        client.subscribe_topic(topic, lambda event, update=update: update(event[1]))
    try:
        futures = [
            client.submit(
                run_cars,
                config,
                str(run_dir),
                str(output),
                timeout=timeout,
                topic=topic,
                key=f"cars-{name.replace('/', '-')}-{token}-{i}",
                pure=False,
                retries=0,
            )
            for i, ((name, config, run_dir, output), topic) in enumerate(zip(jobs, topics, strict=True))
        ]
        try:
            return client.gather(futures)
        finally:
            for future in futures:
                future.cancel()
    finally:
        for topic in topics:
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)


def dsm_from_pair(
    left: ImageInput,
    right: ImageInput,
    *,
    resolution: float | None = None,
    initial_elevation: str | os.PathLike[str] | None = None,
    geoid: str | os.PathLike[str] | bool | None = None,
    output: str | os.PathLike[str] = "dsm.tif",
    epsg: int | None = None,
    height_margins: tuple[float, float] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    client: Any = None,
    workers: int = 2,
    progress: bool = True,
) -> xr.DataArray:
    """A digital surface model from a stereo pair with RPC models, computed by CARS on the Dask cluster.

    CARS (CNES) runs as its command line in a subprocess, as one task on the cluster of ``client``
    (its ``multiprocessing`` orchestrator uses ``workers`` processes inside that task).

    Parameters
    ----------
    left, right
        Sensor images (one panchromatic band) with their RPC models: a path when the model is in the
        image's TIFF tags or beside it (``<stem>.geom``, ``RPC_*.XML``, ``.RPB``), else ``(image, geomodel)``.
    resolution
        Pixel size of the DSM in metres (default: CARS's choice, about the images' ground sampling).
    initial_elevation
        A DEM (e.g. an SRTM ``.hgt`` tile) that guides matching: needed when the terrain lies far from the
        RPC models' height offset.
    geoid
        Heights of the DSM: ``None`` or ``True`` above CARS's EGM96 geoid, a path to another geoid grid
        (``.gtx``; also used with ``initial_elevation``), ``False`` above the WGS84 ellipsoid.
    output
        The DSM, a COG written atomically (float32, NaN nodata); the run's folder (CARS's configuration,
        log ``cars.log`` and outputs) is ``<output stem>.cars/`` beside it.
    epsg
        CRS of the DSM (default: CARS's choice, the UTM zone).
    height_margins
        Metres (below, above) added to the heights sparse matching found, to make the range dense matching
        searches (default: CARS's 500 and 1000 m). Small values (e.g. ``(50, 100)``) suit a small area of
        known relief: a narrower search is faster and CARS does not crop it for memory.
    timeout
        Wall-clock limit of the CARS run in seconds (``None``: none); past it CARS and every process it
        started are stopped and :class:`~ai4geo_kernel.errors.StereoTimeoutError` is raised.
    client
        A ``distributed.Client`` (default: :func:`ai4geo_kernel.compute.current_client`; with none, CARS
        runs from this process). Its workers must see the same file system as this process.
    workers
        CARS worker processes inside the task.
    progress
        Show CARS's progress (current task, percent).

    Returns
    -------
    xarray.DataArray
        The DSM (``y``, ``x``), float32 metres, NaN where matching found nothing, CRS and transform set
        (rioxarray), read from ``output``.

    Raises
    ------
    MissingRPCError
        When an image has no RPC model.
    BandCountError
        When an image has more than one band.
    NonOverlappingPairError
        When the two images see no common ground.
    StereoTimeoutError
        When CARS runs past ``timeout``.
    StereoRunError
        When CARS fails; the message ends with its log's tail.

    Examples
    --------
    >>> from ai4geo_kernel import compute, stereo
    >>> client = compute.cluster()                                             # doctest: +SKIP
    >>> dsm = stereo.dsm_from_pair("left.tif", "right.tif", resolution=1.0,   # doctest: +SKIP
    ...                            output="dsm.tif")
    """
    (dsm,) = dsms_from_pairs(
        [(left, right)],
        outputs=[output],
        resolution=resolution,
        initial_elevation=initial_elevation,
        geoid=geoid,
        epsg=epsg,
        height_margins=height_margins,
        timeout=timeout,
        client=client,
        workers=workers,
        progress=progress,
    )
    return dsm
