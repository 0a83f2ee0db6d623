"""The dashboard's routes: four HTML pages rendered from Jinja2 templates, and `/static/...` files.

Static files are served by a plain route (not a mounted sub-app) so that `app.include_router(router)`
carries them along; a path that leaves the static folder is a 404. Pages carry no data: their scripts
fetch it from the JSON API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
API_PREFIX = "/api/v1"
STATIC_CACHE_SECONDS = 300
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
               ".html": "text/html", ".txt": "text/plain", "": "text/plain"}


@dataclass(frozen=True)
class Page:
    """One page of the navigation: its key, title, template and script."""

    key: str
    title: str
    path: str


PAGES: tuple[Page, ...] = (
    Page("upcoming", "Upcoming", "/"),
    Page("history", "History", "/history"),
    Page("coordination", "Coordination", "/coordination"),
)

router = APIRouter(include_in_schema=False)
_ENV = None


def _environment():
    """The Jinja2 environment (built once, on first use)."""
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        _ENV = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]))
    return _ENV


def render_page(page: str, title: str, **context: object) -> str:
    """The HTML of one page (template `<page>.html`, which extends `base.html`)."""
    template = _environment().get_template(f"{page}.html")
    return template.render(page=page, title=title, pages=PAGES, api_prefix=API_PREFIX, **context)


@router.get("/", response_class=HTMLResponse)
def upcoming_page() -> HTMLResponse:
    return HTMLResponse(render_page("upcoming", "Upcoming releases"))


@router.get("/releases/{plan_id}/{service}", response_class=HTMLResponse)
def release_page(plan_id: str, service: str) -> HTMLResponse:
    return HTMLResponse(render_page("release", f"{service} in {plan_id}", plan_id=plan_id, service=service))


@router.get("/history", response_class=HTMLResponse)
def history_page() -> HTMLResponse:
    return HTMLResponse(render_page("history", "History"))


@router.get("/coordination", response_class=HTMLResponse)
def coordination_page() -> HTMLResponse:
    return HTMLResponse(render_page("coordination", "Coordination"))


def static_file(relative: str) -> Path:
    """The file under static/ named by `relative`; HTTPException 404 when missing or outside the folder."""
    candidate = (STATIC_DIR / relative).resolve()
    if not candidate.is_relative_to(STATIC_DIR) or not candidate.is_file():
        raise HTTPException(404, f"no static file {relative!r}")
    return candidate


@router.api_route("/static/{relative:path}", methods=["GET", "HEAD"])
def static(relative: str) -> FileResponse:
    path = static_file(relative)
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream") if path.name != "NOTICE" else "text/plain"
    return FileResponse(path, media_type=media, headers={"Cache-Control": f"max-age={STATIC_CACHE_SECONDS}"})
