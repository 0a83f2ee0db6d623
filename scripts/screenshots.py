"""Screenshots of the dashboard's main pages (docs/screenshots/*.png) in Debian's Chromium.

Copies a built warehouse (default data/warehouse.duckdb, from `make demo`), seeds it through the real
library as the browser tests do (two planned trains, one simulated rollout, tokens), serves the real app on
127.0.0.1 and saves one full-page PNG per page. Nothing is downloaded.

    .venv/bin/python scripts/screenshots.py [--warehouse data/warehouse.duckdb] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
LOAD_TIMEOUT_MS = 60_000
SETTLE_MS = 800


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=REPO / "data" / "warehouse.duckdb")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    if not args.warehouse.exists():
        print(f"no warehouse at {args.warehouse}: run `make demo` (or simulate, ingest, build) first", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from dashboard.seed import seed_warehouse
    from releasepilot.api.app import create_app
    from releasepilot.config import Settings
    from releasepilot.dashboard.background import background_server
    from releasepilot.dashboard.browser import VIEWPORT, launch_chromium, login

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rp-screens-") as tmp:
        started = time.perf_counter()
        seeded = seed_warehouse(args.warehouse, Path(tmp) / "warehouse.duckdb")
        print(f"seeded a copy of {args.warehouse} in {time.perf_counter() - started:.1f} s")
        settings = Settings(_env_file=None, RELEASEPILOT_HOME=tmp, MLFLOW_TRACKING_URI=f"sqlite:///{tmp}/mlflow.db",
                            RELEASEPILOT_POLICY=f"{tmp}/no-policy.yaml")
        pages = {"upcoming": "/", "release": f"/releases/{seeded.scored_plan}/{seeded.scored_service}",
                 "history": "/history", "coordination": "/coordination"}
        with background_server(create_app(settings, warehouse=seeded.warehouse)) as url, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport=VIEWPORT)
            login(page, url, seeded.tokens["viewer"])
            for name, path in pages.items():
                page.goto(url + path)
                page.wait_for_selector("body[data-loaded]", timeout=LOAD_TIMEOUT_MS)
                page.wait_for_timeout(SETTLE_MS)
                state = page.evaluate("document.body.dataset.loaded")
                target = args.out / f"{name}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"{name:<13} {state:<6} {target.relative_to(REPO) if target.is_relative_to(REPO) else target}")
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
