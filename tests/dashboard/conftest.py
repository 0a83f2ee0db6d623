"""Browser-test fixtures: a seeded warehouse (from the session's generated history), the real app served by
uvicorn on 127.0.0.1 in a thread, and one Debian Chromium for the whole session."""

from __future__ import annotations

import pytest

from releasepilot.dashboard.browser import VIEWPORT, chromium_path, launch_chromium, login

from .seed import Seeded, seed_warehouse


@pytest.fixture(scope="session")
def seeded(built_history, tmp_path_factory) -> Seeded:
    return seed_warehouse(built_history[1], tmp_path_factory.mktemp("dashboard") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory):
    from releasepilot.config import Settings

    home = tmp_path_factory.mktemp("dashboard-home")
    return Settings(_env_file=None, RELEASEPILOT_HOME=str(home), MLFLOW_TRACKING_URI=f"sqlite:///{home / 'mlflow.db'}",
                    RELEASEPILOT_POLICY=str(home / "no-policy.yaml"))


@pytest.fixture(scope="session")
def base_url(seeded, app_settings):
    from releasepilot.api.app import create_app
    from releasepilot.dashboard.background import background_server

    with background_server(create_app(app_settings, warehouse=seeded.warehouse)) as url:
        yield url


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the dashboard tests, closed after them: Playwright's sync API runs an event loop in
    the main thread, and Prefect clients in later tests must not find one running."""
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; see .ci/debian-packages)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture()
def open_as(browser, base_url, seeded):
    """open_as(role, path) -> a page signed in with that role's token, at `path`, after its data loaded."""
    contexts = []

    def open_page(role: str, path: str):
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        login(page, base_url, seeded.tokens[role])
        page.goto(base_url + path)
        page.wait_for_selector("body[data-loaded]", timeout=30_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
