"""Catalog panel benchmark: Search click to rows rendered in a real Lab, and the REST layer's overhead.

In one run, on the demo catalog (``demo-s2`` over the demo area, 2024-01-01..2024-12-31):

- **click to rows**: a JupyterLab with the panel, driven by the system Chromium (Playwright); the time from
  the Search button's click to the result rows being in the page (measured in the page with
  ``performance.now()``, polled every animation frame), median of ``--repeats`` searches;
- **server overhead**: ``POST /ai4geo/catalog/search`` over HTTP (token auth, JSON answer with every item,
  the code of the cell) against calling ``ai4geo_kernel.catalog.search`` directly in this process with the
  same arguments (the peer: what a notebook cell does); repeats interleaved, medians, ratio server / direct.

Run: ``.venv/bin/python benchmarks/bench_catalog_panel.py [--scale 0.5] [--repeats 10]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

CLICK_TO_ROWS = """async () => {
  const panel = document.querySelector('#ai4geo-catalog');
  panel.dataset.state = '';
  panel.querySelectorAll('tr.ai4geo-result').forEach(row => row.remove());
  const t0 = performance.now();
  panel.querySelector('button[data-action=search]').click();
  await new Promise((resolve, reject) => {
    const check = () => {
      if (panel.dataset.state === 'error') { reject(new Error('search failed')); return; }
      if (panel.dataset.state === 'results' && panel.querySelector('tr.ai4geo-result')) { resolve(); return; }
      requestAnimationFrame(check);
    };
    check();
  });
  return performance.now() - t0;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.5, help="demo area scale")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--dest", type=Path, default=REPO / ".demo-bench")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "catalog_panel.json")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from ai4geo_kernel import _process, catalog, demo
    from ai4geo_kernel.lab import lab_command
    from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path

    area = demo.generate(args.dest / f"scale{args.scale:g}", scale=args.scale)
    bbox, start, end = [round(v, 6) for v in area.bbox_wgs84], "2024-01-01", "2024-12-31"
    body = {
        "provider": catalog.DEMO_PROVIDER,
        "collection": "demo-s2",
        "bbox": bbox,
        "start": start,
        "end": end,
    }
    with demo.serve(area), tempfile.TemporaryDirectory() as tmp:
        root, port, token = Path(tmp) / "root", _process.free_port(), secrets.token_hex(16)
        root.mkdir()
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": f"{tmp}/config",
            "JUPYTERLAB_SETTINGS_DIR": f"{tmp}/settings",
            "JUPYTERLAB_WORKSPACES_DIR": f"{tmp}/workspaces",
        }
        log = Path(tmp) / "lab.log"
        proc = _process.start(lab_command(port=port, root=root, token=token), log=log, env=env)
        try:
            base = f"http://127.0.0.1:{port}/"
            _process.wait_http(
                f"{base}api/status?token={token}", proc=proc, log=log, name="JupyterLab", timeout=120
            )

            def via_server() -> int:
                request = urllib.request.Request(
                    f"{base}ai4geo/catalog/search",
                    data=json.dumps(body).encode(),
                    method="POST",
                    headers={"Authorization": f"token {token}"},
                )
                with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - 127.0.0.1
                    return len(json.loads(response.read())["items"])

            def direct() -> int:
                return len(
                    catalog.search("demo-s2", provider=catalog.DEMO_PROVIDER, bbox=bbox, start=start, end=end)
                )

            n_items = direct()
            assert via_server() == n_items  # warm-up of both (imports, EODAG, caches)
            server_times, direct_times = [], []
            for _ in range(args.repeats):
                for fn, times in ((via_server, server_times), (direct, direct_times)):
                    t0 = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t0)

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{base}lab?token={token}")
                page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)
                page.locator('li[data-id="ai4geo-catalog"]').click()
                page.wait_for_selector(
                    "#ai4geo-catalog select[data-field=collection] option[value=demo-s2]", timeout=60_000
                )
                page.locator("#ai4geo-catalog select[data-field=collection]").select_option("demo-s2")
                page.locator("#ai4geo-catalog input[data-field=start]").fill(start)
                page.locator("#ai4geo-catalog input[data-field=end]").fill(end)
                page.evaluate(CLICK_TO_ROWS)  # warm-up
                click_ms = [page.evaluate(CLICK_TO_ROWS) for _ in range(args.repeats)]
                rows = page.locator("#ai4geo-catalog tr.ai4geo-result").count()
                browser.close()
        finally:
            _process.stop(proc)

    result = {
        "items": n_items,
        "rows_on_page": rows,
        "repeats": args.repeats,
        "scale": args.scale,
        "click_to_rows_ms": {"median": statistics.median(click_ms), "all": click_ms},
        "server_search_ms": {
            "median": 1000 * statistics.median(server_times),
            "all": [1000 * t for t in server_times],
        },
        "direct_search_ms": {
            "median": 1000 * statistics.median(direct_times),
            "all": [1000 * t for t in direct_times],
        },
    }
    result["server_over_direct"] = result["server_search_ms"]["median"] / result["direct_search_ms"]["median"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(f"demo-s2, {n_items} items ({rows} rows on the first page), medians of {args.repeats}:")
    print(f"  click Search -> rows rendered: {result['click_to_rows_ms']['median']:.1f} ms")
    print(f"  POST /ai4geo/catalog/search:   {result['server_search_ms']['median']:.1f} ms")
    print(f"  catalog.search() directly:     {result['direct_search_ms']['median']:.1f} ms")
    print(f"  server / direct:               {result['server_over_direct']:.2f}")


if __name__ == "__main__":
    main()
