"""Tokens: stored hashed, roles ordered, 401/403, create/list/revoke through the API and the CLI, all audited."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from api.helpers import audit_actions, bearer, row_count
from releasepilot.api import auth
from releasepilot.api.store import open_warehouse
from releasepilot.cli import app


def test_health_needs_no_token(client):
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_me_names_the_token_and_role(client, tokens):
    answer = client.get("/api/v1/me", headers=bearer(tokens["release-manager"]))
    assert answer.status_code == 200
    assert answer.json()["name"] == "release-manager-person" and answer.json()["role"] == "release-manager"


def test_missing_malformed_and_wrong_tokens_are_401(client, tokens):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me", headers=bearer("not-a-token")).status_code == 401
    token_id = auth.split_token(tokens["viewer"])[0]
    forged = f"rp_{token_id}_wrongsecret"
    answer = client.get("/api/v1/me", headers=bearer(forged))
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


def test_secrets_are_stored_hashed(warehouse, tokens):
    with open_warehouse(warehouse) as con:
        stored = con.execute("select token_id, secret_sha256 from app.api_tokens").fetchall()
    secrets = {auth.split_token(t)[1] for t in tokens.values()}
    assert len(stored) == 3
    for token_id, digest in stored:
        assert digest not in secrets and len(digest) == 64
    assert {auth.hash_secret(s) for s in secrets} == {d for _, d in stored}


def test_roles_are_ordered():
    viewer, manager, admin = (auth.Principal("i", "n", r) for r in auth.ROLES)
    assert admin.has("release-manager") and manager.has("viewer") and not viewer.has("release-manager")
    assert not manager.has("admin")


def test_token_endpoints_need_admin(client, tokens):
    for role in ("viewer", "release-manager"):
        assert client.get("/api/v1/tokens", headers=bearer(tokens[role])).status_code == 403
        assert client.post("/api/v1/tokens", json={"name": "x", "role": "viewer"},
                           headers=bearer(tokens[role])).status_code == 403


def test_admin_creates_lists_and_revokes_a_token(client, tokens, warehouse):
    admin = bearer(tokens["admin"])
    created = client.post("/api/v1/tokens", json={"name": "ci-pipeline", "role": "viewer"}, headers=admin)
    assert created.status_code == 201
    new = created.json()
    assert client.get("/api/v1/me", headers=bearer(new["token"])).json()["name"] == "ci-pipeline"
    listed = client.get("/api/v1/tokens", headers=admin).json()
    assert {t["name"] for t in listed} >= {"ci-pipeline", "admin-person"}
    assert all("token" not in t and "secret_sha256" not in t for t in listed)
    revoked = client.delete(f"/api/v1/tokens/{new['token_id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert client.get("/api/v1/me", headers=bearer(new["token"])).status_code == 401
    actions = [(e["who"], e["action"], e["target"]) for e in audit_actions(warehouse)]
    assert ("admin-person", "token.create", f"token/{new['token_id']}") in actions
    assert ("admin-person", "token.revoke", f"token/{new['token_id']}") in actions


def test_bad_token_requests_are_422_naming_the_field_and_write_nothing(client, tokens, warehouse):
    admin = bearer(tokens["admin"])
    before = row_count(warehouse, "app.api_tokens"), row_count(warehouse, "app.audit_log")
    answer = client.post("/api/v1/tokens", json={"name": "x", "role": "superuser"}, headers=admin)
    assert answer.status_code == 422 and answer.json()["field"] == "role"
    answer = client.post("/api/v1/tokens", json={"name": "   ", "role": "viewer"}, headers=admin)
    assert answer.status_code == 422 and answer.json()["field"] == "name"
    answer = client.post("/api/v1/tokens", json={"role": "viewer"}, headers=admin)
    assert answer.status_code == 422 and "name" in answer.json()["message"]
    assert (row_count(warehouse, "app.api_tokens"), row_count(warehouse, "app.audit_log")) == before


def test_revoking_an_unknown_token_is_404(client, tokens):
    assert client.delete("/api/v1/tokens/nope", headers=bearer(tokens["admin"])).status_code == 404


def test_cli_bootstraps_lists_and_revokes_tokens(tmp_path):
    runner = CliRunner()
    path = tmp_path / "w.duckdb"
    made = runner.invoke(app, ["token", "create", "--name", "first-admin", "--role", "admin", "--warehouse", str(path),
                               "--json"])
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    with open_warehouse(path) as con:
        assert auth.authenticate(con, created["token"]).role == "admin"
    listed = json.loads(runner.invoke(app, ["token", "list", "--warehouse", str(path), "--json"]).stdout)
    assert [t["name"] for t in listed] == ["first-admin"] and "token" not in listed[0]
    bad = runner.invoke(app, ["token", "create", "--name", "x", "--role", "root", "--warehouse", str(path)])
    assert bad.exit_code == 2 and "role" in bad.output
    gone = runner.invoke(app, ["token", "revoke", created["token_id"], "--warehouse", str(path), "--json"])
    assert gone.exit_code == 0 and json.loads(gone.stdout)["active"] is False
    with open_warehouse(path) as con:
        assert auth.authenticate(con, created["token"]) is None
    assert runner.invoke(app, ["token", "revoke", "nope", "--warehouse", str(path)]).exit_code == 2
