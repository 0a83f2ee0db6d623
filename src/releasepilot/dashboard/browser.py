"""Launch Debian's Chromium through Playwright for browser tests and screenshots.

`playwright install` cannot download browsers here, so this uses the system's /usr/bin/chromium with the
flags that keep it quiet and offline-friendly. `login(page, base_url, token)` stores a token as the
dashboard's token box does.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
TOKEN_KEY = "releasepilot.token"
VIEWPORT = {"width": 1400, "height": 1000}


def chromium_path() -> str | None:
    """The system Chromium (RELEASEPILOT_CHROMIUM overrides), or None when it is not installed."""
    override = os.environ.get("RELEASEPILOT_CHROMIUM")
    if override:
        return override if os.path.exists(override) else None
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser from Playwright's sync API object (`sync_playwright().start()`)."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("Chromium is not installed: `apt-get install -y chromium` (see .ci/debian-packages)")
    return playwright.chromium.launch(executable_path=path, headless=True, args=list(CHROMIUM_ARGS))


def login(page: Any, base_url: str, token: str) -> None:
    """Store `token` where the dashboard's token box keeps it (localStorage of the origin)."""
    page.goto(base_url + "/static/vendor/NOTICE")
    page.evaluate("([key, token]) => localStorage.setItem(key, token)", [TOKEN_KEY, token])
