"""Tests of the container images, docker-stacks style: each test module belongs to one layer and runs
against that layer's image and every image built FROM it, so an image re-runs its parents' tests.

Run by `make images-test` (``AI4GEO_ENGINE`` holds the podman/docker command line, ``AI4GEO_IMAGE_PREFIX``
and ``AI4GEO_IMAGE_TAG`` name the images). ``--images core,imagery`` restricts the images under test.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ai4geo_kernel._process import free_port

REPO = Path(__file__).resolve().parents[2]
#: The layers, each FROM the one before.
LAYERS = ("core", "imagery", "project")
ENGINE = shlex.split(os.environ.get("AI4GEO_ENGINE", "podman"))
PREFIX = os.environ.get("AI4GEO_IMAGE_PREFIX", "localhost/ai4geo")
TAG = os.environ.get("AI4GEO_IMAGE_TAG", "latest")
#: What `podman run` needs on this machine (no CAP_SYS_RESOURCE: RECIPES); harmless with Docker.
RUN_FLAGS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--images", default=",".join(LAYERS), help="comma-separated layers whose images to test")


def image_ref(layer: str) -> str:
    return f"{PREFIX}/{layer}:{TAG}"


def engine(
    *args: str, check: bool = True, timeout: float = 600, **kwargs
) -> subprocess.CompletedProcess[str]:
    """Run the container engine (podman or docker) with ``args``."""
    result = subprocess.run(
        [*ENGINE, *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args[:3])}... exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


def run_in(layer: str, command: str, *flags: str, check: bool = True, timeout: float = 600):
    """Run ``command`` (bash) in a new container of ``layer``'s image, removed afterwards."""
    return engine(
        "run",
        "--rm",
        *RUN_FLAGS,
        *flags,
        image_ref(layer),
        "bash",
        "-c",
        command,
        check=check,
        timeout=timeout,
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "layer" in metafunc.fixturenames:
        own = metafunc.module.LAYER
        selected = metafunc.config.getoption("--images").split(",")
        layers = [name for name in LAYERS[LAYERS.index(own) :] if name in selected]
        metafunc.parametrize("layer", layers, scope="session")


@dataclass(frozen=True)
class Lab:
    """A running container of an image with its Lab published on 127.0.0.1."""

    layer: str
    name: str
    url: str
    token: str

    def get(self, path: str, timeout: float = 60) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def exec(
        self, command: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return engine("exec", self.name, "bash", "-c", command, check=check, timeout=timeout)


@pytest.fixture(scope="session")
def lab(layer: str) -> Iterator[Lab]:
    """The image's default command (start.sh under tini), port 8888 published on a free 127.0.0.1 port."""
    name, token, port = f"ai4geo-test-{layer}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, free_port()
    engine(
        "run",
        "-d",
        "--name",
        name,
        *RUN_FLAGS,
        "-p",
        f"127.0.0.1:{port}:8888",
        "-e",
        f"JUPYTER_TOKEN={token}",
        image_ref(layer),
    )
    lab = Lab(layer, name, f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, body = lab.get("/api/status", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the Lab of {layer} did not answer:\n{engine('logs', name, check=False).stderr}"
                )
            time.sleep(1)
        yield lab
    finally:
        engine("rm", "-f", "-t", "5", name, check=False)


def lock_pins() -> dict[str, str]:
    """The stack's lock, by canonical name."""
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (REPO / "images" / "lock" / "stack.lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def installed_in(layer: str) -> dict[str, str]:
    """``{name: version}`` of the image's venv."""
    from packaging.utils import canonicalize_name

    code = (
        "import json, importlib.metadata as m; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    out = run_in(layer, f"python -c {shlex.quote(code)}").stdout
    return {canonicalize_name(k): v for k, v in json.loads(out.strip().splitlines()[-1]).items()}
