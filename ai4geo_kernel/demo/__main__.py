"""Command line of the demo area: ``python -m ai4geo_kernel.demo generate|serve [--dest D] ...``.

Subcommands are argparse subparsers, each registered by a small ``add_*_command`` function.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ai4geo_kernel.errors import Ai4geoError

__all__ = ["build_parser", "add_generate_command", "add_serve_command", "main"]


def _run_generate(args: argparse.Namespace) -> int:
    from ai4geo_kernel.demo._generate import generate

    area = generate(args.dest, seed=args.seed, scale=args.scale, force=args.force, progress=not args.quiet)
    print(area.root)
    return 0


def add_generate_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate",
        help="generate the demo area (or reuse the one already there) and print its folder",
        description="Generate the deterministic demo area over Toulouse: COGs, vectors and a static STAC "
        "catalog. Reuses an existing area generated with the same seed and scale.",
    )
    parser.add_argument(
        "--dest", default=None, help="folder of the area (default: $AI4GEO_DEMO_DIR or ~/.cache/ai4geo/demo)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="linear size: about 1280*scale metres a side (default: 1.0; 4.0 for benchmarks)",
    )
    parser.add_argument("--force", action="store_true", help="regenerate even if the area exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_run_generate)
    return parser


def _run_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from ai4geo_kernel.demo._generate import generate
    from ai4geo_kernel.demo._serve import serve

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    area = generate(args.dest, progress=not args.quiet)
    with serve(area, stac_port=args.port) as services:
        print(
            f"STAC API   {services.stac_url}\nassets     {services.assets_url}\n"
            f"export AI4GEO_DEMO_STAC_URL={services.stac_url}\nCtrl-C stops both.",
            flush=True,
        )
        while not stop.wait(0.5):
            if not services.running:
                print("error: a demo server stopped unexpectedly", file=sys.stderr)
                return 1
    return 0


def add_serve_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the demo area as a STAC API and an asset server on 127.0.0.1 until Ctrl-C",
        description="Start the demo STAC API (rustac) and the Range-capable asset server on 127.0.0.1, "
        "generating the demo area first if it is missing.",
    )
    parser.add_argument("--dest", default=None, help="folder of the area (default: $AI4GEO_DEMO_DIR)")
    parser.add_argument("--port", type=int, default=0, help="port of the STAC API (default: a free one)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_run_serve)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``ai4geo-demo`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m ai4geo_kernel.demo", description="The AI4GEO offline demo area."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_generate_command(subparsers)
    add_serve_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except Ai4geoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
