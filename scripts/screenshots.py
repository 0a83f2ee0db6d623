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
    parser.add_argument("--from-demo", action="store_true",
                        help="show the demo's own latest plan and rollout (real champion model, the injected "
                             "fault) instead of seeding test plans")
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
        if args.from_demo:
            warehouse, plan_id, service, token = demo_view(args.warehouse, Path(tmp) / "warehouse.duckdb")
            settings = Settings(_env_file=None, RELEASEPILOT_HOME=str(REPO),
                                MLFLOW_TRACKING_URI=f"sqlite:///{REPO / 'mlflow.db'}")
        else:
            seeded = seed_warehouse(args.warehouse, Path(tmp) / "warehouse.duckdb")
            warehouse, plan_id, service = seeded.warehouse, seeded.scored_plan, seeded.scored_service
            token = seeded.tokens["viewer"]
            settings = Settings(_env_file=None, RELEASEPILOT_HOME=tmp, MLFLOW_TRACKING_URI=f"sqlite:///{tmp}/mlflow.db",
                                RELEASEPILOT_POLICY=f"{tmp}/no-policy.yaml")
        print(f"prepared a copy of {args.warehouse} in {time.perf_counter() - started:.1f} s")
        pages = {"upcoming": "/", "release": f"/releases/{plan_id}/{service}",
                 "history": "/history", "coordination": "/coordination"}
        with background_server(create_app(settings, warehouse=warehouse)) as url, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport=VIEWPORT)
            login(page, url, token)
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


def demo_view(source: Path, target: Path) -> tuple[Path, str, str, str]:
    """A copy of the demo's warehouse, its latest executed plan, the release that was rolled back (else the
    first one), and a viewer token."""
    import shutil

    import duckdb

    from releasepilot.api.auth import create_token

    shutil.copy(source, target)
    con = duckdb.connect(str(target))
    try:
        plan_id = con.execute("select plan_id from app.rollout_events order by seq desc limit 1").fetchone()[0]
        rows = con.execute("select service, status from app.release_outcomes where plan_id = ? order by "
                           "status = 'rolled_back' desc, service", [plan_id]).fetchall()
        token = create_token(con, "screenshots", "viewer", created_by="scripts/screenshots.py")["token"]
    finally:
        con.close()
    return target, plan_id, rows[0][0], token


if __name__ == "__main__":
    raise SystemExit(main())
