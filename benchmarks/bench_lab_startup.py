"""Start-up of a second `make lab` (venv and demo area present) against plain `jupyter lab`, same machine.

Both are timed from the command's start to the Lab answering ``/api/status`` (make lab: to its printed URL,
which it prints once the Lab answers), stopped with SIGINT as Ctrl-C would, and repeated interleaved; medians.
Run: ``.venv/bin/python benchmarks/bench_lab_startup.py [--repeats 5]`` from the repository root.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    from ai4geo_kernel._process import free_port

    return free_port()


def time_make_lab() -> float:
    port = _free_port()
    start = time.monotonic()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(REPO), "lab", f"PORT={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if re.search(r"JupyterLab: http://127\.0\.0\.1:\d+/lab\?token=", line):
            elapsed = time.monotonic() - start
            break
    else:
        raise RuntimeError("make lab did not print its URL")
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(60)
    return elapsed


def time_plain_jupyter_lab() -> float:
    port, token = _free_port(), secrets.token_hex(8)
    from ai4geo_kernel.lab import lab_command

    with tempfile.TemporaryDirectory() as root:
        # the same Lab command line `make lab` runs, without the venv check and the demo services
        argv = lab_command(port=port, root=Path(root), token=token)
        start = time.monotonic()
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    elapsed = time.monotonic() - start
                    break
            except OSError:
                time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "install", "demo"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    time_make_lab()  # warm-up: page cache
    make_lab, plain = [], []
    for _ in range(args.repeats):
        make_lab.append(time_make_lab())
        plain.append(time_plain_jupyter_lab())
    ml, pl = statistics.median(make_lab), statistics.median(plain)
    print(f"second `make lab` to URL: median {ml:.1f} s (runs {', '.join(f'{t:.1f}' for t in make_lab)})")
    print(
        f"plain `jupyter lab` to /api/status: median {pl:.1f} s (runs {', '.join(f'{t:.1f}' for t in plain)})"
    )
    print(f"ratio make lab / plain jupyter lab: {ml / pl:.2f}")


if __name__ == "__main__":
    main()
