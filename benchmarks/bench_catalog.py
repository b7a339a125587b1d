"""Catalog benchmark: search latency and cube throughput of ai4geo_kernel.catalog against its peers.

Peers, measured in the same run on the same demo catalog and the same items:

- search: plain EODAG (``EODataAccessGateway.search`` with its defaults, on the same provider config) and a
  raw HTTP POST to the STAC API's ``/search`` (the floor: no client library at all);
- cube: plain stackstac (``stackstac.stack`` on the same items, same grid, same rescaling) computed on the
  same Dask cluster as ``SearchResults.to_xarray(...)``.

Repeats are interleaved (library, peer, library, peer...) and medians reported, so drifts of the machine hit
both sides alike. Run: ``.venv/bin/python benchmarks/bench_catalog.py [--scale 4] [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def _median_time(fn, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=4.0, help="demo area scale (4: a 5 km x 5 km area)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dest", type=Path, default=BENCH.parent / ".demo-bench")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "catalog.json")
    args = parser.parse_args()

    import stackstac
    from distributed import Client, LocalCluster

    from ai4geo_kernel import catalog, demo
    from ai4geo_kernel.catalog import DEMO_PROVIDER
    from ai4geo_kernel.catalog._cube import _stackstac_dict

    area = demo.generate(args.dest / f"scale{args.scale:g}", scale=args.scale)
    assets = ["blue", "green", "red", "nir"]
    with (
        demo.serve(area) as services,
        LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster),  # the default scheduler of both computations
    ):
        bbox, start, end = list(area.bbox_wgs84), "2024-01-01", "2024-12-31"
        results = catalog.search("demo-s2", bbox=bbox, start=start, end=end)  # warm-up (imports, caches)
        dag = catalog.gateway().dag
        body = json.dumps(
            {
                "collections": ["demo-s2"],
                "bbox": bbox,
                "limit": 100,
                "datetime": "2024-01-01T00:00:00Z/2024-12-31T23:59:59Z",
            }
        ).encode()

        def lib_search() -> int:
            return len(catalog.search("demo-s2", bbox=bbox, start=start, end=end))

        def eodag_search() -> int:
            return len(
                dag.search(
                    collection="demo-s2",
                    provider=DEMO_PROVIDER,
                    geom=bbox,
                    start=start,
                    end="2024-12-31T23:59:59Z",
                    limit=100,
                )
            )

        def http_search() -> int:
            req = urllib.request.Request(
                f"{services.stac_url}/search", data=body, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req) as response:
                return len(json.loads(response.read())["features"])

        assert lib_search() == eodag_search() == http_search() == len(results)
        search_times: dict[str, list[float]] = {"library": [], "eodag": [], "http": []}
        for _ in range(args.repeats):
            for name, fn in (("library", lib_search), ("eodag", eodag_search), ("http", http_search)):
                search_times[name] += _median_time(fn, 3)

        cube = results.to_xarray(assets=assets, resolution=10, chunks=512)
        grid = dict(
            epsg=int(cube.attrs["crs"].split(":")[1]), resolution=10, bounds=cube.attrs["spec"].bounds
        )
        # The peer stacks the same items as stackstac needs them (STAC 1.0 raster:bands and proj:epsg, which
        # the library derives from EODAG's STAC 1.1): both sides then read, rescale and mask the same pixels.
        items = [_stackstac_dict(item) for item in results.items]

        def lib_cube() -> None:
            results.to_xarray(assets=assets, resolution=10, chunks=512).compute()

        def stackstac_cube() -> None:
            stackstac.stack(items, assets=assets, chunksize=512, **grid).compute()

        nbytes = cube.nbytes
        lib_cube()
        stackstac_cube()  # warm-up: GDAL caches, worker imports
        cube_times: dict[str, list[float]] = {"library": [], "stackstac": []}
        for _ in range(args.repeats):
            cube_times["library"] += _median_time(lib_cube, 1)
            cube_times["stackstac"] += _median_time(stackstac_cube, 1)

    med = {
        k: statistics.median(v)
        for k, v in {
            **{f"search_{k}": v for k, v in search_times.items()},
            **{f"cube_{k}": v for k, v in cube_times.items()},
        }.items()
    }
    report = {
        "scale": args.scale,
        "items": len(results),
        "cube_shape": list(cube.shape),
        "cube_mb": nbytes / 1e6,
        "workers": args.workers,
        "repeats": args.repeats,
        "median_s": med,
        "search_ratio_vs_eodag": med["search_library"] / med["search_eodag"],
        "search_ratio_vs_http": med["search_library"] / med["search_http"],
        "cube_mb_per_s": {
            "library": nbytes / 1e6 / med["cube_library"],
            "stackstac": nbytes / 1e6 / med["cube_stackstac"],
        },
        "cube_time_ratio_vs_stackstac": med["cube_library"] / med["cube_stackstac"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"demo-s2 search, {len(results)} items (median of {len(search_times['library'])}):")
    print(
        f"  library {med['search_library'] * 1e3:7.1f} ms | plain eodag {med['search_eodag'] * 1e3:7.1f} ms "
        f"| raw HTTP {med['search_http'] * 1e3:6.1f} ms"
    )
    print(
        f"  ratio library/eodag {report['search_ratio_vs_eodag']:.2f}, "
        f"library/http {report['search_ratio_vs_http']:.2f}"
    )
    print(
        f"cube {tuple(cube.shape)} float64, {nbytes / 1e6:.0f} MB, {args.workers} workers "
        f"(median of {args.repeats}):"
    )
    print(
        f"  library {report['cube_mb_per_s']['library']:6.1f} MB/s | plain stackstac "
        f"{report['cube_mb_per_s']['stackstac']:6.1f} MB/s "
        f"| time ratio {report['cube_time_ratio_vs_stackstac']:.3f}"
    )


if __name__ == "__main__":
    main()
