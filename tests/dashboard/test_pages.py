"""The dashboard in Debian's Chromium against the real app and a warehouse seeded from a generated history."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from releasepilot import audit
from releasepilot.api.store import open_warehouse
from releasepilot.rollout import events as ev

CANVAS_INK = """id => { const c = document.getElementById(id); const d = c.getContext('2d')
  .getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""


def api_get(base_url: str, token: str, path: str):
    response = httpx.get(base_url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def test_static_files_are_served_from_the_package_not_a_cdn(base_url):
    html = httpx.get(base_url + "/").text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts and all(s.startswith("/static/") for s in scripts)
    chart = httpx.get(base_url + "/static/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and "Chart.js v4" in chart.text[:200]
    assert httpx.get(base_url + "/static/../pages.py").status_code == 404
    assert httpx.get(base_url + "/static/vendor/missing.js").status_code == 404


def test_upcoming_lists_the_trains_and_the_share_of_scored_releases(open_as, seeded):
    page = open_as("viewer", "/")
    assert page.evaluate("document.body.dataset.loaded") == "true", page.inner_text("#flash")
    assert page.locator("article.train").count() == 2
    total = sum(len(v) for v in seeded.services.values())
    scored = len(seeded.services[seeded.scored_plan])
    assert page.inner_text("#stat-releases") == str(total)
    assert page.inner_text("#stat-scored") == f"{round(100 * scored / total)}%"
    assert page.inner_text("#stat-scored-sub") == f"{scored} of {total} releases"
    card = page.locator(f'article.train[data-plan="{seeded.scored_plan}"]')
    assert card.locator("a.release-link").count() == scored
    assert card.locator("span.badge").count() >= scored + 1    # the train and each release
    assert "not scored" not in card.inner_text()
    assert page.locator(f'article.train[data-plan="{seeded.unscored_plan}"]').inner_text().count("not scored") \
        == len(seeded.services[seeded.unscored_plan])
    assert page.errors == []


def test_release_page_shows_reasons_graph_rollout_and_notes(open_as, seeded, base_url):
    service = seeded.scored_service
    page = open_as("viewer", f"/releases/{seeded.scored_plan}/{service}")
    assert page.evaluate("document.body.dataset.loaded") == "true", page.inner_text("#flash")
    detail = api_get(base_url, seeded.tokens["viewer"], f"/plans/{seeded.scored_plan}/releases/{service}")
    assert page.locator("#decision-reasons li").count() == len(detail["reasons"]) > 0
    assert page.locator("#checks tbody tr").count() == len(detail["readiness"]) == 8
    assert page.inner_text("#risk-value") == f"{100 * detail['risk']['probability']:.1f}%"
    assert page.evaluate(CANVAS_INK, "risk-gauge") > 500          # the gauge was drawn
    nodes = page.locator("#blast-graph svg g.node")
    assert nodes.count() == len(detail["graph"]["nodes"]) >= 2
    assert page.locator(f'#blast-graph g.node.centre[data-id="{service}"]').count() == 1
    assert page.locator("#blast-graph line.edge").count() == len(detail["graph"]["edges"]) > 0
    # the finished simulated rollout: every planned step done, gate verdicts, health readings
    page.wait_for_function("document.querySelectorAll('#gates tbody tr').length > 0", timeout=10_000)
    steps = len(detail["rollout"]["steps"])
    assert page.locator(".steps .step.done").count() == steps
    assert "finished: succeeded" in page.inner_text("#rollout-status")
    assert page.evaluate(CANVAS_INK, "health-chart") > 500
    assert "error_rate" in page.inner_text("#health-latest")
    assert page.locator(f"#notes >> text={service}").count() >= 1
    assert page.errors == []


def test_override_by_a_release_manager_lands_in_the_audit_trail(open_as, seeded):
    service = seeded.services[seeded.scored_plan][1]
    page = open_as("release-manager", f"/releases/{seeded.scored_plan}/{service}")
    page.select_option("#override-decision", "NO-GO")
    page.fill("#override-reason", "payments freeze this week: hold the release")
    page.click("#override-submit")
    page.wait_for_selector("#override-message.ok", timeout=15_000)
    row = page.locator("#audit tbody tr", has_text="payments freeze this week")
    assert row.count() == 1 and "release-manager-person" in row.inner_text() and "override" in row.inner_text()
    assert page.inner_text("#decision-badge") == "NO-GO"
    with open_warehouse(seeded.warehouse) as con:
        stored = [o for o in audit.list_overrides(con, seeded.scored_plan) if o.service == service]
    assert [(o.decision.value, o.by, o.reason) for o in stored] == \
        [("NO-GO", "release-manager-person", "payments freeze this week: hold the release")]


def test_a_viewers_override_is_refused_and_nothing_is_stored(open_as, seeded):
    service = seeded.services[seeded.scored_plan][2]
    page = open_as("viewer", f"/releases/{seeded.scored_plan}/{service}")
    page.fill("#override-reason", "I am only a viewer")
    page.click("#override-submit")
    page.wait_for_selector("#override-message.error-text", timeout=15_000)
    message = page.inner_text("#override-message")
    assert "refused" in message and "release-manager" in message
    assert page.locator("#audit tbody tr", has_text="I am only a viewer").count() == 0
    with open_warehouse(seeded.warehouse) as con:
        assert [o for o in audit.list_overrides(con, seeded.scored_plan) if o.service == service] == []


def test_release_page_updates_while_a_rollout_runs_without_reloading(open_as, seeded):
    service = seeded.services[seeded.scored_plan][3]
    page = open_as("viewer", f"/releases/{seeded.scored_plan}/{service}")
    page.evaluate("window.__sameDocument = 'yes'")
    assert page.locator("#events li.step_deployed").count() == 0      # only the plan-level events so far
    log = ev.EventLog(seeded.warehouse, seeded.scored_plan, "live-test")
    log.append(ev.RELEASE_STARTED, at=datetime.now(UTC), release_id=service, service=service, status="started")
    log.append(ev.STEP_DEPLOYED, at=datetime.now(UTC), release_id=service, service=service, step_index=1, status="ok")
    page.wait_for_selector("#events li.step_deployed", timeout=15_000)
    assert page.locator('.steps .step[data-step="1"]').get_attribute("class") == "step baking"
    assert page.evaluate("window.__sameDocument") == "yes"             # no full page reload
    assert int(page.evaluate("document.body.dataset.polls")) >= 2


def test_history_and_coordination_render_the_api_figures(open_as, seeded, base_url):
    page = open_as("viewer", "/history")
    assert page.evaluate("document.body.dataset.loaded") == "true", page.inner_text("#flash")
    dora = api_get(base_url, seeded.tokens["viewer"], "/metrics/dora?group_by=team&weeks=26")
    assert int(page.get_attribute("#dora-chart", "data-rows")) == len(dora["series"]) > 0
    assert page.evaluate(CANVAS_INK, "dora-chart") > 1000
    page.select_option("#dora-group", "service")
    page.wait_for_selector("#dora-table th:text-is('service')", timeout=15_000)
    assert page.locator("#drift").count() == 1
    page = open_as("viewer", "/coordination")
    coordination = api_get(base_url, seeded.tokens["viewer"], "/metrics/coordination")
    card = page.locator('.card[data-key="share_scored"] .value')
    assert card.inner_text() == f"{100 * coordination['share_scored']:.1f}%"
    assert page.locator('.card[data-key="planned_releases"] .value').inner_text() == str(coordination["planned_releases"])
    assert page.errors == []
