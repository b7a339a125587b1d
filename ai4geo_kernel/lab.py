"""``make lab``: the demo catalog and a JupyterLab on 127.0.0.1, stopped together by Ctrl-C.

Run as ``python -m ai4geo_kernel.lab [--port 8888] [--root notebooks]``. It prepares the demo area when it
is missing (reused afterwards), starts the demo STAC API and asset server, starts JupyterLab with a token
and the demo catalog in its kernels' environment, prints the URL, and on Ctrl-C (or SIGTERM) stops the
Lab, its kernels and the servers: no process left, no port left bound. JupyterLab runs as a child
process: this library does not import Jupyter server code.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from ai4geo_kernel import _process
from ai4geo_kernel.errors import ServiceError

__all__ = ["main", "lab_command"]


def lab_command(*, port: int, root: Path, token: str, base_url: str = "/") -> list[str]:
    """The JupyterLab command line ``make lab`` runs (``--allow-root`` when running as root)."""
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.base_url={base_url}",
        # offline: no news feed, no update check (both would reach for the internet)
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        argv.append("--allow-root")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Start the demo catalog and JupyterLab; block until Ctrl-C; stop everything."""
    parser = argparse.ArgumentParser(prog="ai4geo-lab", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8888)))
    parser.add_argument(
        "--root", type=Path, default=Path("notebooks"), help="folder shown in the file browser"
    )
    parser.add_argument("--demo-dir", type=Path, default=None, help="demo area folder (AI4GEO_DEMO_DIR)")
    parser.add_argument("--base-url", default="/")
    args = parser.parse_args(argv)

    from ai4geo_kernel.demo import generate, serve

    stop_requested = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    area = generate(args.demo_dir) if args.demo_dir else generate()
    token = os.environ.get("AI4GEO_LAB_TOKEN") or secrets.token_hex(24)
    services = serve(area)
    lab = None
    try:
        print(f"demo catalog: STAC API {services.stac_url}  assets {services.assets_url}", flush=True)
        log = Path(services.run_dir or ".") / "jupyterlab.log"
        lab = _process.start(
            lab_command(port=args.port, root=root, token=token, base_url=args.base_url),
            log=log,
            env=dict(os.environ),
        )
        base = f"http://127.0.0.1:{args.port}{args.base_url.rstrip('/')}"
        try:
            _process.wait_http(
                f"{base}/api/status?token={token}", proc=lab, log=log, name="JupyterLab", timeout=120
            )
        except ServiceError as exc:
            if "already in use" in str(exc) or "Address already in use" in _process.log_tail(log):
                print(
                    f"port {args.port} is already in use: choose another one with `make lab PORT=...`",
                    file=sys.stderr,
                )
                return 2
            raise
        print(
            f"\n    JupyterLab: {base}/lab?token={token}\n\n    Ctrl-C stops the Lab and the demo catalog.\n",
            flush=True,
        )
        while not stop_requested.wait(0.5):
            if lab.poll() is not None:
                print(
                    f"JupyterLab exited with status {lab.returncode}:\n{_process.log_tail(log)}",
                    file=sys.stderr,
                )
                return 1
            if not services.running:
                print("the demo catalog stopped unexpectedly", file=sys.stderr)
                return 1
        print("stopping the Lab and the demo catalog...", flush=True)
        return 0
    finally:
        _process.stop(lab)
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
