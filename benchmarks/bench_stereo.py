"""Stereo benchmark: ``stereo.dsm_from_pair`` (CARS as a Dask task) against the CARS command line alone.

Both sides run CARS 1.3.0 on the same pair with the same configuration (the one the library writes:
multiprocessing orchestrator, ``workers`` processes, full-resolution matching, 1 m DSM):

- library: ``stereo.dsm_from_pair(left, right, resolution=1.0, client=client)`` on a LocalCluster started
  beforehand (its start-up is reported apart): the checks (bands, RPC models, footprints), the task, the
  log tailing for progress, the conversion of CARS's DSM to a COG with NaN nodata, the DataArray;
- peer: ``cars --logtype plain cars.yaml`` in a subprocess, timed from start to exit (its DSM left as
  CARS writes it).

Runs are interleaved (peer, library, peer, library...) and medians reported, so drifts of a shared machine
hit both sides alike; the ratio library / CLI is the library's overhead. Pairs: the demo's synthetic pair
(320 x 320 px) and, with ``--ventoux`` and ../shared/data present, the Pleiades Ventoux pair.
Run: ``.venv/bin/python benchmarks/bench_stereo.py [--repeats 3] [--ventoux]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import yaml

BENCH = Path(__file__).resolve().parent
SHARED = BENCH.parent.parent / "shared" / "data" / "phr_ventoux"


def _cli(config: dict, folder: Path) -> float:  # type: ignore[type-arg]
    from ai4geo_kernel.stereo._cars import cars_environment, cars_executable

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    config = json.loads(json.dumps(config))
    config["output"]["directory"] = str(folder / "out")
    (folder / "cars.yaml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    with open(folder / "cars.log", "wb") as log:
        subprocess.run(
            [cars_executable(), "--logtype", "plain", "--loglevel", "INFO", str(folder / "cars.yaml")],
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=cars_environment(),
        )
    seconds = time.perf_counter() - start
    if not (folder / "out" / "dsm" / "dsm.tif").is_file():
        raise RuntimeError(f"the CLI wrote no DSM in {folder}")
    return seconds


def _library(pair: dict, folder: Path, client) -> float:  # type: ignore[no-untyped-def, type-arg]
    from ai4geo_kernel import stereo

    if folder.exists():
        shutil.rmtree(folder)
    start = time.perf_counter()
    dsm = stereo.dsm_from_pair(**pair, output=folder / "dsm.tif", client=client, progress=False)
    float(dsm.mean())  # read it: the user gets an array
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="CARS worker processes (both sides)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ai4geo-bench-stereo"))
    parser.add_argument("--ventoux", action="store_true", help="also the Pleiades Ventoux pair (shared data)")
    args = parser.parse_args()

    from ai4geo_kernel import compute, demo, stereo

    area = demo.generate(args.dir / "area", seed=0, scale=0.5, progress=False)
    pairs = {
        "demo 320 px": {
            "left": area.stereo_left,
            "right": area.stereo_right,
            "resolution": 1.0,
            "height_margins": (50, 100),
        },
    }
    if args.ventoux and SHARED.is_dir():
        pairs["Ventoux 500 px"] = {
            "left": SHARED / "left_image.tif",
            "right": SHARED / "right_image.tif",
            "initial_elevation": SHARED / "N44E005.hgt",
            "geoid": SHARED / "egm96_15.gtx",
        }
    start = time.perf_counter()
    client = compute.cluster("local", new=True, n_workers=1, threads_per_worker=1)
    cluster_start = time.perf_counter() - start
    results = {"cluster_start_s": round(cluster_start, 2), "workers": args.workers, "pairs": {}}
    try:
        for name, pair in pairs.items():
            left = stereo.sensor_image(pair["left"])
            right = stereo.sensor_image(pair["right"])
            dem = pair.get("initial_elevation")
            geoid = pair.get("geoid")
            config = stereo.cars_config(
                (left.image, left.geomodel),
                (right.image, right.geomodel),
                args.dir / "unused",
                resolution=pair.get("resolution"),
                initial_elevation=Path(dem) if dem else None,
                geoid=Path(geoid) if geoid else None,
                epsg=None,
                workers=args.workers,
                height_margins=pair.get("height_margins"),
            )
            cli, lib = [], []
            for i in range(args.repeats):
                cli.append(_cli(config, args.dir / f"cli-{i}"))
                lib.append(_library({**pair, "workers": args.workers}, args.dir / f"lib-{i}", client))
                print(f"{name} run {i + 1}: CLI {cli[-1]:.1f} s, library {lib[-1]:.1f} s", flush=True)
            row = {
                "cli_s": [round(t, 2) for t in cli],
                "library_s": [round(t, 2) for t in lib],
                "cli_median_s": round(statistics.median(cli), 2),
                "library_median_s": round(statistics.median(lib), 2),
            }
            row["ratio"] = round(row["library_median_s"] / row["cli_median_s"], 3)
            results["pairs"][name] = row
            print(name, row, flush=True)
    finally:
        client.close()
    results["load_average"] = os.getloadavg()
    out = BENCH / "results" / "stereo.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
