"""The release health dashboard: HTML pages and their static files, served by the API's FastAPI app.

The pages are public shells; their data comes from the JSON API (`/api/v1`) with a bearer token that the
user pastes once (kept in the browser's localStorage). Everything the browser loads is shipped in
`static/` (no CDN). `create_app` includes `router`.
"""

from __future__ import annotations

from releasepilot.dashboard.pages import PAGES, STATIC_DIR, router

__all__ = ["PAGES", "STATIC_DIR", "router"]
