"""Background conversion of a raster to a Cloud-Optimized GeoTIFF with overviews (rio-cogeo)."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CogJob", "start_cog_conversion", "cog_job", "cog_path_for"]

_PERCENT = re.compile(r"(\d{1,3})%")


def cog_path_for(path: str | os.PathLike[str]) -> Path:
    """Where the COG copy of ``path`` is written: ``name.cog.tif`` beside it."""
    source = Path(path)
    return source.with_name(f"{source.stem}.cog.tif")


class _Progress:
    """A file-like that rio-cogeo's click progress bar writes to; keeps the last percentage."""

    def __init__(self, job: CogJob) -> None:
        self._job = job

    def isatty(self) -> bool:  # click draws its bar (with the percentage) only on terminals
        return True

    def write(self, text: str) -> int:
        found = _PERCENT.findall(text)
        if found:
            self._job.progress = min(0.99, int(found[-1]) / 100.0)
        return len(text)

    def flush(self) -> None:
        pass


@dataclass
class CogJob:
    """A running or finished conversion; ``progress`` goes from 0 to 1."""

    id: str
    source: str
    destination: str
    state: str = "running"  # running | done | failed
    progress: float = 0.0
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "progress": round(self.progress, 3),
            "error": self.error,
            "destination": self.destination,
            "elapsed": round((self.finished or time.time()) - self.started, 2),
        }

    def wait(self, timeout: float | None = None) -> CogJob:
        if self.thread is not None:
            self.thread.join(timeout)
        return self


_jobs: dict[str, CogJob] = {}
_lock = threading.Lock()


def _run(job: CogJob) -> None:
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    destination = Path(job.destination)
    temporary = destination.with_name(f".{destination.name}.{job.id}.part")
    try:
        profile = cog_profiles.get("deflate")
        profile.update(blockxsize=512, blockysize=512)
        cog_translate(
            job.source,
            str(temporary),
            profile,
            overview_resampling="average",
            in_memory=False,
            quiet=False,
            progress_out=_Progress(job),  # type: ignore[arg-type]
            config={"GDAL_NUM_THREADS": "ALL_CPUS"},
        )
        os.replace(temporary, destination)
        job.progress, job.state = 1.0, "done"
    except Exception as error:  # reported through the job's state
        job.state, job.error = "failed", str(error)
        temporary.unlink(missing_ok=True)
    finally:
        job.finished = time.time()


def start_cog_conversion(source: str, destination: str | None = None) -> CogJob:
    """Start writing a COG copy of ``source`` (with overviews) in a background thread.

    A second request for the same source while a job runs returns that job.
    """
    target = str(destination or cog_path_for(source))
    with _lock:
        for job in _jobs.values():
            if job.source == source and job.destination == target and job.state == "running":
                return job
        job = CogJob(id=secrets.token_urlsafe(12), source=source, destination=target)
        _jobs[job.id] = job
    job.thread = threading.Thread(target=_run, args=(job,), name=f"ai4geo-cog-{job.id}", daemon=True)
    job.thread.start()
    return job


def cog_job(job_id: str) -> CogJob | None:
    """The job of ``job_id``, or ``None``."""
    with _lock:
        return _jobs.get(job_id)
