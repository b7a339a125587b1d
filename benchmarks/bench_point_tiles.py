"""Point-cloud tiles (scene3d.point_tile) against reading the cloud whole with laspy: peak memory and time.

Writes a LAS cloud of ``--points`` random points over 4 km (in chunks, never whole in memory), in random file
order and sorted by 250 m blocks, then measures, each in a child process of its own:

- ours: ``scene3d.point_tile_index`` (one streamed pass, cached) and every tile the viewer's overview and a
  close-up need (level 0, one tile of each level down to the finest);
- peer: ``laspy.read`` of the whole file and its x, y, z as float64 (what a viewer that loads the cloud whole
  holds at least).

Peak memory is tracemalloc's (Python and numpy allocations, imports excluded); max RSS is given beside it.

Command: ``.venv/bin/python benchmarks/bench_point_tiles.py --points 5000000``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

_OURS = """
import resource, sys, time, tracemalloc
from ai4geo_kernel import scene3d
path = sys.argv[1]
frame = scene3d.SceneFrame.parse("EPSG:32631", "362000,4838000")
tracemalloc.start()
start = time.perf_counter()
index = scene3d.point_tile_index(path)
indexed = time.perf_counter() - start
times, points = [], 0
for level in range(index.levels):
    n = 2 ** level
    t = time.perf_counter()
    meta, arrays = scene3d.point_tile(path, level, n // 2, n // 2, frame, index=index)
    times.append(round(time.perf_counter() - t, 2))
    points += meta["count"]
peak = tracemalloc.get_traced_memory()[1]
print(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, index.levels, indexed, *times, points)
"""

_PEER = """
import resource, sys, time, tracemalloc
import laspy, numpy as np
tracemalloc.start()
start = time.perf_counter()
data = laspy.read(sys.argv[1])
xyz = np.column_stack([np.asarray(data.x), np.asarray(data.y), np.asarray(data.z)])
peak = tracemalloc.get_traced_memory()[1]
print(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter() - start, len(xyz))
"""


def write_cloud(path: Path, count: int, *, ordered: bool) -> None:
    import laspy
    from pyproj import CRS

    from ai4geo_kernel.io import atomic_path

    header = laspy.LasHeader(point_format=6, version="1.4")
    header.offsets = np.array([360_000.0, 4_836_000.0, 0.0])
    header.scales = np.array([0.01, 0.01, 0.01])
    header.add_crs(CRS.from_epsg(32631))
    rng = np.random.default_rng(2)
    block = 2_000_000
    with atomic_path(path, suffix=".las") as tmp, laspy.open(tmp, mode="w", header=header) as writer:
        for start in range(0, count, block):
            n = min(block, count - start)
            if ordered:  # 16 x 16 blocks of 250 m row by row: each block's points are contiguous in the file
                cell = np.arange(start, start + n) * 256 // count
                x = (cell % 16) * 250 + rng.uniform(0, 250, n)
                y = (cell // 16) * 250 + rng.uniform(0, 250, n)
            else:
                x, y = rng.uniform(0, 4000, n), rng.uniform(0, 4000, n)
            points = laspy.ScaleAwarePointRecord.zeros(n, header=header)
            points.x, points.y = 360_000 + x, 4_840_000 - y
            points.z = 150 + 20 * np.sin(y / 300) * np.cos(x / 400)
            points.classification = rng.integers(1, 7, n).astype(np.uint8)
            writer.write_points(points)


def child(code: str, *args: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=5_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ai4geo-bench-point-tiles"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for order in ("random", "blocks"):
        cloud = args.dir / f"cloud_{args.points}_{order}.las"
        if not cloud.exists():
            write_cloud(cloud, args.points, ordered=order == "blocks")
        size = cloud.stat().st_size / 2**20
        ours = child(_OURS, str(cloud))
        peer = child(_PEER, str(cloud))
        ours_peak, peer_peak = (
            int(ours[0]) / 2**20,
            int(peer[0]) / 2**20,
        )  # tracemalloc (numpy arrays included)
        results[order] = {
            "file_mib": round(size),
            "levels": int(ours[2]),
            "index_s": round(float(ours[3]), 1),
            "tile_s_by_level": [float(t) for t in ours[4:-1]],
            "ours_peak_alloc_mib": round(ours_peak),
            "ours_max_rss_mib": round(int(ours[1]) / 1024),
            "peer_laspy_read_s": round(float(peer[2]), 1),
            "peer_peak_alloc_mib": round(peer_peak),
            "peer_max_rss_mib": round(int(peer[1]) / 1024),
            "ratio_peak_ours_to_peer": round(ours_peak / peer_peak, 3),
        }
        print(order, json.dumps(results[order]), flush=True)
    out = ROOT / "benchmarks" / "results" / f"point_tiles_{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"points": args.points, **results}, indent=1))


if __name__ == "__main__":
    main()
