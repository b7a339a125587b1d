"""Run the CARS command line on one stereo pair, in a subprocess: its configuration, log, timeout, output.

Why a subprocess and never ``import cars`` (RECIPES, measured on CARS 1.3.0): the import rewrites
``os.environ`` (OMP/MKL/GDAL thread counts, ``DASK_CONFIG``), CARS's Dask modes reset the global Dask
scheduler and cannot attach to an existing one, and CARS calls ``sys.exit(1)`` on errors. The CLI with its
``multiprocessing`` orchestrator, in its own process group, isolates all of that and can be stopped whole.

:func:`run_cars` is what a Dask task runs on a worker; it reports progress (CARS's "Started task ..." and
"...% complete" log lines) through ``progress``, a callable, or the worker's event log (``log_event``).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ai4geo_kernel import _process
from ai4geo_kernel.errors import StereoRunError, StereoTimeoutError

__all__ = [
    "CARS_LOG",
    "CARS_CONFIG",
    "cars_executable",
    "cars_environment",
    "cars_config",
    "run_cars",
    "parse_progress",
]

#: Name of CARS's console log (stdout and stderr) in the run folder.
CARS_LOG = "cars.log"
#: Name of the configuration written into the run folder.
CARS_CONFIG = "cars.yaml"
_TASK = re.compile(r"Started task (?P<task>[\w ]+?) in pipeline (?P<pipeline>[\w ]+?), total: (?P<total>\d+)")
_PERCENT = re.compile(r"Data list to process: (?P<percent>\d+)% complete \((?P<done>\d+)/(?P<total>\d+)")


def cars_executable() -> str:
    """The ``cars`` command of this environment (beside the interpreter first, then on ``PATH``)."""
    beside = Path(sys.executable).with_name("cars")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("cars")
    if found is None:
        raise StereoRunError("the cars command is not installed (pip install cars==1.3.0)")
    return found


def cars_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the CARS subprocess: ours without ``MALLOC_TRIM_THRESHOLD_``.

    Workaround: Dask workers start with ``MALLOC_TRIM_THRESHOLD_=65536``; with it, pandora's confidence
    code (a use-after-free in pandora 1.9.0) segfaults deterministically and CARS's multiprocessing pool
    then hangs at 100% CPU. glibc's default threshold hides the bug.
    """
    env = dict(os.environ if base is None else base)
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    return env


def cars_config(
    left: tuple[Path, Path],
    right: tuple[Path, Path],
    out_dir: Path,
    *,
    resolution: float | None,
    initial_elevation: Path | None,
    geoid: Path | bool | None,
    epsg: int | None,
    workers: int,
    height_margins: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """The CARS 1.3 configuration (YAML as a dict) of one pair.

    ``height_margins`` (below, above), metres, widen the heights found by sparse matching into the range
    dense matching searches (CARS's ``disparity_bounds_estimation`` margins, 500 m below and 1000 m above
    by default: at B/H 0.4 and 1 m GSD that is 600 disparities, which CARS then crops for memory).

    ``subsampling.advanced.resolutions: [1]`` runs matching at full resolution only: CARS's default
    coarse-to-fine pyramid finds too few tie points on small crops ("The DSM generated at resolution 4 is
    empty", RECIPES), and at full resolution only it is also faster on images of a few hundred pixels.
    """
    sensors = {
        name: {"image": str(image), "geomodel": {"path": str(model), "model_type": "RPC"}}
        for name, (image, model) in (("left", left), ("right", right))
    }
    inputs: dict[str, Any] = {"sensors": sensors, "pairing": [["left", "right"]]}
    if initial_elevation is not None or isinstance(geoid, Path):
        elevation: dict[str, Any] = {}
        if initial_elevation is not None:
            elevation["dem"] = str(initial_elevation)
        if isinstance(geoid, Path):
            elevation["geoid"] = str(geoid)
        inputs["initial_elevation"] = elevation
    output: dict[str, Any] = {"directory": str(out_dir)}
    if resolution is not None:
        output["resolution"] = float(resolution)
    if epsg is not None:
        output["epsg"] = int(epsg)
    if isinstance(geoid, Path):
        output["geoid"] = str(geoid)
    elif geoid is False:
        output["geoid"] = False
    config: dict[str, Any] = {
        "input": inputs,
        "orchestrator": {"mode": "multiprocessing", "nb_workers": int(workers)},
        "subsampling": {"advanced": {"resolutions": [1]}},
        "output": output,
    }
    if height_margins is not None:
        below, above = (int(round(v)) for v in height_margins)
        bounds = {"lower_margin": below, "upper_margin": above}
        config["tie_points"] = {
            "applications": {"all": {"sparse_matching": {"disparity_bounds_estimation": bounds}}}
        }
    return config


def parse_progress(line: str) -> dict[str, Any] | None:
    """A progress event from one CARS log line: ``{"task": ...}`` or ``{"percent": ..., ...}``, else None."""
    if match := _TASK.search(line):
        return {"task": f"{match['pipeline'].strip()}: {match['task'].strip()}", "percent": 0}
    if match := _PERCENT.search(line):
        return {"percent": int(match["percent"]), "done": int(match["done"]), "total": int(match["total"])}
    return None


def _worker_reporter(topic: str | None) -> Callable[[dict[str, Any]], None] | None:
    """``log_event`` on the Dask worker running this task (the client subscribes to ``topic``)."""
    if topic is None:
        return None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    return lambda event: worker.log_event(topic, event)


def _to_cog(cars_dsm: Path, output: Path) -> tuple[Path, str | None]:
    """CARS's DSM as a COG with NaN nodata, written atomically at ``output``; and its vertical datum.

    CARS writes a compound CRS (UTM + EGM96 height). The COG keeps the horizontal CRS only: a compound
    CRS makes GDAL/PROJ attempt a vertical transformation (and look for geoid grids) whenever the DSM is
    reprojected or compared with a 2D raster. The vertical datum's name is returned for the metadata.
    """
    import pyproj
    import rasterio
    from rasterio.crs import CRS

    from ai4geo_kernel.io import write_cog

    with rasterio.open(cars_dsm) as src:
        data = src.read(1, masked=True).astype(np.float32).filled(np.nan)
        transform, crs = src.transform, src.crs
    full = pyproj.CRS.from_wkt(crs.to_wkt())
    vertical = None
    if full.is_compound:
        horizontal, *rest = full.sub_crs_list
        vertical = rest[0].name if rest else None
        crs = CRS.from_wkt(horizontal.to_wkt())
    path = write_cog(data, output, transform=transform, crs=crs, nodata=math.nan, band_names=["dsm"])
    return path, vertical


def run_cars(
    config: dict[str, Any],
    run_dir: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    timeout: float | None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    topic: str | None = None,
    poll: float = 0.5,
) -> dict[str, Any]:
    """Run CARS on ``config`` in ``run_dir`` and write its DSM as a COG at ``output``.

    Parameters
    ----------
    config
        From :func:`cars_config`; its ``output.directory`` lies in ``run_dir``.
    run_dir
        Folder of the run: the configuration, CARS's console log and its outputs.
    output
        The DSM COG (float32, NaN nodata).
    timeout
        Wall-clock limit in seconds (None: none); past it CARS and every process it started are stopped.
    progress
        Called with each progress event (task started, percent done).
    topic
        When run on a Dask worker: events also go to the worker's event log under this topic.
    poll
        Seconds between two reads of the log.

    Returns
    -------
    dict
        ``output``, ``run_dir``, ``log`` (paths as strings), ``seconds`` (CARS's wall-clock time) and
        ``vertical_datum`` (what the heights are above).

    Raises
    ------
    StereoTimeoutError
        When CARS ran past ``timeout``.
    StereoRunError
        When CARS exits with an error or writes no DSM; the message ends with the tail of its log.
    """
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    conf_path = run / CARS_CONFIG
    conf_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log = run / CARS_LOG
    log.unlink(missing_ok=True)
    reporters = [r for r in (progress, _worker_reporter(topic)) if r is not None]
    argv = [cars_executable(), "--logtype", "plain", "--loglevel", "INFO", str(conf_path)]
    start = time.monotonic()
    proc = _process.start(argv, log=log, env=cars_environment(), cwd=run)
    offset, pending = 0, ""
    try:
        while True:
            finished = proc.poll() is not None
            try:
                with open(log, "rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read()
            except FileNotFoundError:
                chunk = b""
            offset += len(chunk)
            pending += chunk.decode(errors="replace")
            *lines, pending = pending.split("\n")
            for line in lines:
                event = parse_progress(line)
                if event is not None:
                    for report in reporters:
                        report(event)
            if finished:
                break
            if timeout is not None and time.monotonic() - start > timeout:
                _process.stop(proc)
                raise StereoTimeoutError(
                    f"CARS ran past its {timeout:g} s time limit and was stopped (with every process it "
                    f"started); log {log}:\n{_process.log_tail(log)}",
                    log=str(log),
                )
            time.sleep(poll)
    except BaseException:
        _process.stop(proc)
        raise
    seconds = time.monotonic() - start
    cars_dsm = Path(config["output"]["directory"]) / "dsm" / "dsm.tif"
    if proc.returncode != 0:
        raise StereoRunError(
            f"CARS failed (exit status {proc.returncode}); log {log}:\n{_process.log_tail(log)}",
            log=str(log),
            returncode=proc.returncode,
        )
    if not cars_dsm.is_file():
        raise StereoRunError(
            f"CARS finished without writing {cars_dsm}; log {log}:\n{_process.log_tail(log)}", log=str(log)
        )
    for report in reporters:
        report({"task": "writing the COG", "percent": 100})
    written, vertical = _to_cog(cars_dsm, Path(output))
    return {
        "output": str(written),
        "run_dir": str(run),
        "log": str(log),
        "seconds": seconds,
        "vertical_datum": vertical or "WGS 84 ellipsoid",
    }
