"""A small hand-written history folder in the data-model formats, for reader, quality and ingest tests.

`write_history(folder)` writes a consistent history (3 services, 2 teams, 4 commits, 4 deployments...);
`skip` leaves files out and `extra` appends raw lines to a file, so a test can add exactly the bad row
it is about. Import it as `from sources.fixtures import write_history` (tests/ is on sys.path).
"""

from __future__ import annotations

import json
from pathlib import Path

SERVICES = ("checkout-api", "payments-api", "orders-api")

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  description: The {name} service
  annotations:
    releasepilot.io/tier: "{tier}"
    releasepilot.io/layer: domain
    releasepilot.io/regions: us-east-1, eu-west-1
    releasepilot.io/tenants: ""
    releasepilot.io/contract-tests: {contracts}
spec:
  type: service
  lifecycle: production
  owner: {owner}
  system: commerce
  dependsOn: {depends}
"""

GROUPS = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-payments
spec:
  type: team
  members: [alice.ng, bob.k]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-orders
spec:
  type: team
  members: [carol.d]
"""

COMMITS = [
    {"sha": "c1", "repo": "checkout-api", "author": "alice.ng", "timestamp": "2025-03-04T10:15:00+01:00",
     "message": "feat(cart): add coupon support\n\nBREAKING CHANGE: coupons",
     "files": [{"path": "src/cart/coupon.py", "added": 120, "deleted": 4},
               {"path": "tests/cart/test_coupon.py", "added": 40, "deleted": 0}]},
    {"sha": "c2", "repo": "checkout-api", "author": "bob.k", "timestamp": "2025-03-05T09:00:00Z",
     "message": "fix: rounding", "files": [{"path": "src/cart/total.py", "added": 3, "deleted": 1},
                                           {"path": "assets/logo.png", "added": "-", "deleted": "-"}]},
    {"sha": "p1", "repo": "payments-api", "author": "carol.d", "timestamp": "2025-03-05T12:00:00-05:00",
     "message": "feat: new provider", "files": [{"path": "api/openapi.yaml", "added": 10, "deleted": 2}]},
    {"sha": "o1", "repo": "orders-api", "author": "carol.d", "timestamp": "2025-03-06 08:00:00",
     "message": "chore: bump", "files": []},
]

CSV_FILES = {
    "deployments.csv": [
        "deployment_id,service,version,commit_range,started_at,finished_at,environment,deployer,status",
        "d1,checkout-api,1.0.0,..c1,2025-03-04T12:00:00+01:00,2025-03-04T12:10:00+01:00,production,alice.ng,succeeded",
        "d2,checkout-api,1.0.1,c1..c2,2025-03-05T10:00:00Z,2025-03-05T10:20:00Z,production,bob.k,rolled_back",
        "d3,payments-api,2.0.0,..p1,2025-03-05T18:00:00Z,2025-03-05T18:30:00Z,staging,carol.d,succeeded",
        "d4,orders-api,0.9.0,..o1,2025-03-06T09:00:00Z,,production,carol.d,failed",
    ],
    "incidents.csv": [
        "incident_id,service,title,severity,created_at,acknowledged_at,resolved_at,deployment_id",
        "i1,checkout-api,Checkout errors,SEV2,2025-03-05T10:15:00Z,2025-03-05T10:18:00Z,2025-03-05T11:00:00Z,d2",
        "i2,payments-api,Slow payments,SEV4,2025-03-07T01:00:00Z,,,",
    ],
    "oncall.csv": [
        "team,user,starts_at,ends_at",
        "team-payments,alice.ng,2025-03-03T09:00:00Z,2025-03-10T09:00:00Z",
        "team-payments,bob.k,2025-03-10T09:00:00Z,2025-03-17T09:00:00Z",
        "team-orders,carol.d,2025-03-03T09:00:00+02:00,2025-03-17T09:00:00+02:00",
    ],
    "traffic.csv": [
        "hour,service,region,requests",
        *(f"2025-03-05T{h:02d}:00:00Z,{s},us-east-1,{100 * (h + 1)}" for h in range(2) for s in SERVICES),
    ],
    "freezes.csv": [
        "freeze_id,name,starts_at,ends_at,scope,reason",
        "f1,Black Friday,2025-11-27T00:00:00Z,2025-12-01T23:59:59Z,all,peak season",
    ],
}

ROW_COUNTS = {"services": 3, "team_members": 3, "commits": 4, "commit_files": 5, "deployments": 4,
              "incidents": 2, "oncall": 3, "traffic": 6, "freezes": 1}


def write_catalog(folder: Path, services: tuple[str, ...] = SERVICES) -> Path:
    catalog = folder / "catalog"
    for index, name in enumerate(services):
        (catalog / name).mkdir(parents=True, exist_ok=True)
        depends = "[component:default/payments-api, component:orders-api]" if name == "checkout-api" else "[]"
        owner = "group:default/team-payments" if index < 2 else "team-orders"
        (catalog / name / "catalog-info.yaml").write_text(COMPONENT.format(
            name=name, tier=index + 1, contracts="payments-api" if index == 0 else '""', owner=owner,
            depends=depends))
    (catalog / "groups.yaml").write_text(GROUPS)
    return catalog


def write_history(folder: Path, *, skip: tuple[str, ...] = (), extra: dict[str, list[str]] | None = None,
                  commits: list[dict] | None = None) -> Path:
    """Write the fixture history into `folder` (created); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = extra or {}
    if "catalog" not in skip:
        write_catalog(folder)
    if "commits.jsonl" not in skip:
        lines = [json.dumps(c) for c in (COMMITS if commits is None else commits)]
        (folder / "commits.jsonl").write_text("\n".join(lines + extra.get("commits.jsonl", [])) + "\n")
    for name, lines in CSV_FILES.items():
        if name not in skip:
            (folder / name).write_text("\n".join(lines + extra.get(name, [])) + "\n")
    return folder
