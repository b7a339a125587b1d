"""Tile latency of ai4geo_kernel.tiles against plain rio-tiler, on a generated 20,000 x 20,000 4-band uint16 raster.

    .venv/bin/python benchmarks/bench_tiles.py --dir /tmp/bench-tiles [--size 20000] [--tiles 200]

Writes (once, reused) ``plain.tif`` (tiled, DEFLATE, no overviews) and ``cog.tif`` (rio-cogeo, AVERAGE
overviews), then walks ``--tiles`` XYZ tiles zooming in from z11 to z18 while panning, 256 px PNG, bands
1-3, rescale 0-3500, sequentially:
- ours: ``TileService.tile`` (path check, readers kept open, rendering), a fresh service per cold pass,
  the same one for the warm pass;
- peer: plain rio-tiler, a ``Reader`` opened per tile, ``ImageData.render`` with the same rescale.
Passes are interleaved and repeated; p50/p95 per pass, ratios ours/peer, and the process RSS during the
walk (the server's memory while panning). On the file without overviews only tiles from z14 up are
timed (plus one z12 tile), since zoomed-out tiles take seconds to minutes there.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from pathlib import Path

import morecantile
import numpy as np
import psutil
import rasterio
from rasterio.transform import from_origin

TMS = morecantile.tms.get("WebMercatorQuad")


def generate(directory: Path, size: int) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    plain, cog = directory / f"plain_{size}.tif", directory / f"cog_{size}.tif"
    if not plain.exists():
        start = time.perf_counter()
        profile = {
            "driver": "GTiff",
            "width": size,
            "height": size,
            "count": 4,
            "dtype": "uint16",
            "crs": "EPSG:32631",
            "transform": from_origin(350_000.0, 4_850_000.0, 1.0, 1.0),
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "deflate",
            "BIGTIFF": "YES",
        }
        rng = np.random.default_rng(0)
        cols = np.arange(size, dtype="float32")
        tmp = plain.with_suffix(".part")
        with rasterio.open(tmp, "w", **profile) as dst:
            for top in range(0, size, 1024):
                height = min(1024, size - top)
                rows = np.arange(top, top + height, dtype="float32")[:, None]
                base = 1500 + 800 * np.sin(rows / 900.0) * np.cos(cols / 700.0)
                noise = rng.normal(0, 120, (4, height, size)).astype("float32")
                block = np.clip(
                    np.stack([base, base * 0.9 + 100, base * 0.8 + 200, 3000 - base]) + noise, 1, 65535
                )
                dst.write(block.astype("uint16"), window=((top, top + height), (0, size)))
        tmp.rename(plain)
        print(f"wrote {plain} in {time.perf_counter() - start:.0f} s")
    if not cog.exists():
        from rio_cogeo.cogeo import cog_translate
        from rio_cogeo.profiles import cog_profiles

        start = time.perf_counter()
        profile = cog_profiles.get("deflate")
        profile.update(blockxsize=512, blockysize=512, BIGTIFF="YES")
        cog_translate(
            str(plain),
            str(cog.with_suffix(".part")),
            profile,
            overview_resampling="average",
            in_memory=False,
            quiet=True,
            config={"GDAL_NUM_THREADS": "ALL_CPUS"},
        )
        cog.with_suffix(".part").rename(cog)
        print(f"wrote {cog} in {time.perf_counter() - start:.0f} s")
    return plain, cog


def walk(path: Path, count: int, min_zoom: int = 11, max_zoom: int = 18) -> list[morecantile.Tile]:
    """Zoom in from ``min_zoom`` to ``max_zoom`` over the image while panning along a diagonal."""
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    tiles: list[morecantile.Tile] = []
    zooms = list(range(min_zoom, max_zoom + 1))
    per_zoom = math.ceil(count / len(zooms))
    for index, zoom in enumerate(zooms):
        for step in range(per_zoom):
            f = 0.15 + 0.7 * ((index * per_zoom + step) / count)
            lon, lat = west + (east - west) * f, north - (north - south) * (0.5 + 0.35 * math.sin(6 * f))
            tiles.append(TMS.tile(lon, lat, zoom))
    return tiles[:count]


def peer_tile(path: Path, tile: morecantile.Tile) -> bytes:
    from rio_tiler.io import Reader

    with Reader(str(path)) as reader:
        image = reader.tile(tile.x, tile.y, tile.z, indexes=(1, 2, 3), tilesize=256)
    image.rescale(in_range=((0, 3500),))
    return image.render(img_format="PNG")


def time_pass(render, tiles) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for tile in tiles:
        start = time.perf_counter()
        render(tile)
        times.append((time.perf_counter() - start) * 1000)
    return times


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def bench(path: Path, tiles: list[morecantile.Tile], repeats: int, label: str) -> None:
    from ai4geo_kernel.tiles import TileService, TileStyle

    style = TileStyle(bands=(1, 2, 3), rescale=((0.0, 3500.0),))
    results: dict[str, list[list[float]]] = {"ours cold": [], "ours warm": [], "rio-tiler": []}
    process = psutil.Process()
    rss: list[float] = []
    for _ in range(repeats):
        service = TileService(path.parent)

        def ours(tile, service=service):  # type: ignore[no-untyped-def]
            body = service.tile(path.name, tile.z, tile.x, tile.y, style=style)
            rss.append(process.memory_info().rss / 2**20)
            return body

        results["ours cold"].append(time_pass(ours, tiles))
        results["ours warm"].append(time_pass(ours, tiles))
        results["rio-tiler"].append(time_pass(lambda tile: peer_tile(path, tile), tiles))
        service.close()
    print(
        f"\n{label}: {len(tiles)} tiles z{tiles[0].z}-z{tiles[-1].z}, {repeats} interleaved repeats (median of repeats)"
    )
    summary = {}
    for name, passes in results.items():
        p50 = statistics.median(pct(p, 50) for p in passes)
        p95 = statistics.median(pct(p, 95) for p in passes)
        summary[name] = (p50, p95)
        print(f"  {name:10s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    peer = summary["rio-tiler"]
    for name in ("ours cold", "ours warm"):
        print(
            f"  {name} / rio-tiler: p50 {summary[name][0] / peer[0]:.2f}x  p95 {summary[name][1] / peer[1]:.2f}x"
        )
    print(f"  process RSS while panning: {min(rss):.0f}-{max(rss):.0f} MiB")


def main() -> None:
    warnings.simplefilter("ignore")  # rio-tiler warns on every open of the file without overviews
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ai4geo-bench-tiles"))
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--tiles", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    plain, cog = generate(args.dir, args.size)
    bench(cog, walk(cog, args.tiles), args.repeats, f"COG with overviews ({cog.name})")
    flat_tiles = [walk(plain, 1, 12, 12)[0]] + walk(plain, max(args.tiles // 4, 5), 14, 18)
    bench(plain, flat_tiles, 1, f"no overviews ({plain.name})")


if __name__ == "__main__":
    main()
