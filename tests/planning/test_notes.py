"""Release notes from conventional commits."""

from __future__ import annotations

from releasepilot.planning.notes import NotesRelease, parse_commit, release_notes


def test_parse_conventional_headers_and_breaking_footers():
    c = parse_commit("abcdef123", "feat(cart)!: drop v1 coupons\n\nbody")
    assert (c.type, c.scope, c.subject, c.breaking) == ("feat", "cart", "drop v1 coupons", True)
    c = parse_commit("a", "fix: null total\n\nBREAKING CHANGE: totals are now integers")
    assert c.breaking and c.breaking_note == "totals are now integers" and c.scope is None
    assert parse_commit("a", "Merge branch 'main'").type == "other"
    assert parse_commit("a", "wip(x): thing").type == "other"
    assert parse_commit("a", "").subject == "(no message)"


def test_notes_group_by_service_and_type_with_breaking_first_and_risk_beside():
    releases = [
        NotesRelease("checkout", "2.4.0", [
            {"sha": "1111111aaa", "message": "fix(cart): rounding"},
            {"sha": "2222222bbb", "message": "feat(api)!: remove v1 endpoint"},
            {"sha": "3333333ccc", "message": "feat: coupons"},
            {"sha": "4444444ddd", "message": "Update README"},
        ], decision="GO WITH CONDITIONS", failure_probability=0.18,
            conditions=["run an integration test of orders against the new payments contract"]),
        NotesRelease("orders", "1.0.1", [], decision="NO-GO", failure_probability=0.4, override_by="alice"),
    ]
    text = release_notes("march", releases)
    lines = text.splitlines()
    assert lines[0] == "# Release notes: march"
    assert text.index("## Breaking changes") < text.index("## checkout 2.4.0") < text.index("## orders 1.0.1")
    assert "- **checkout 2.4.0**: **api:** remove v1 endpoint (`2222222`)" in lines
    section = text[text.index("## checkout 2.4.0"):text.index("## orders")]
    assert section.index("### ⚠ Breaking changes") < section.index("### Features") < section.index("### Bug fixes")
    assert section.index("### Bug fixes") < section.index("### Other changes")
    assert "**GO WITH CONDITIONS** · risk 18%" in section and "- run an integration test" in section
    assert "- coupons (`3333333`)" in section and "remove v1 endpoint" not in section.split("### Features")[1]
    assert "**NO-GO** (override by alice) · risk 40%" in text and "_No commits listed._" in text
