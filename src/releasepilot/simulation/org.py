"""The simulated organisation: teams, people, services, the layered dependency graph and repo layouts.

Everything here is drawn once per run from the seeded generator; later stages only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from releasepilot.simulation.config import (
    FILE_WORDS,
    FIRST_NAMES,
    HOME_REGIONS,
    LAST_NAMES,
    MODULE_WORDS,
    REGIONS,
    SERVICE_WORDS,
    SYSTEMS,
    TEAM_WORDS,
    TENANTS,
    SimulationConfig,
)

LAYERS = ["edge", "gateway", "domain", "library", "datastore"]
LAYER_SHARES = np.array([0.08, 0.12, 0.50, 0.15, 0.15])
LAYER_TYPE = {"edge": "service", "gateway": "service", "domain": "service", "library": "library",
              "datastore": "database"}
LANGUAGES = {"py": ("{m}/{w}.py", "tests/{m}/test_{w}.py"), "go": ("{m}/{w}.go", "tests/{m}/{w}_test.go"),
             "ts": ("{m}/{w}.ts", "tests/{m}/{w}.test.ts")}
CONTRACT_COVERAGE = 0.78          # mean share of consumer->provider API pairs with an integration test
PREEXISTING_SERVICES = 0.7        # share of services whose repo predates the history window
PEOPLE_PER_TEAM = 7               # initial members per team (plus a Poisson extra)
JOINERS_PER_TEAM_YEAR = 3.0       # new members per team per year
MEAN_TENURE_YEARS = 3.0           # members leave after an exponential tenure


@dataclass
class RepoFiles:
    """One service's repository layout: every path a commit may touch, with its kind and module."""

    paths: list[str]
    kind: np.ndarray          # 0 src, 1 test, 2 api, 3 docs, 4 binary
    module_of: np.ndarray     # index into `modules` for src/test files, -1 otherwise
    modules: list[str]
    shared: np.ndarray        # bool per module: other teams often change it


@dataclass
class Org:
    """Teams, people and services as parallel arrays (index = id position)."""

    team_ids: list[str]
    team_region: list[str]
    team_tz: np.ndarray               # index into REGION_NAMES of the home region
    team_test_rate: np.ndarray        # share of commits that touch tests
    team_other_rate: np.ndarray       # share of a service's commits made by other teams
    team_skill: np.ndarray            # how fast the team improves (drift)
    people: list[str]
    person_team: np.ndarray
    person_join: np.ndarray           # seconds since start (negative: before the window)
    person_leave: np.ndarray
    person_weight: np.ndarray
    service_ids: list[str]
    layer: np.ndarray                 # index into LAYERS
    tier: np.ndarray
    owner: np.ndarray                 # team index
    system: list[str]
    regions: list[list[str]]
    tenants: list[list[str]]
    depends_on: list[list[int]]
    contract_tests: list[list[int]]
    created: np.ndarray               # seconds since start of the repo's first commit
    deploy_rate: np.ndarray           # production deployments per working day
    aging: np.ndarray                 # how fast the service accrues risk (drift)
    has_api: np.ndarray
    repos: list[RepoFiles] = field(default_factory=list)

    @property
    def consumers(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.service_ids]
        for consumer, providers in enumerate(self.depends_on):
            for provider in providers:
                out[provider].append(consumer)
        return out

    def uncovered_consumer(self) -> np.ndarray:
        """Per service: some consumer calls its API without an integration (contract) test for it."""
        flag = np.zeros(len(self.service_ids), dtype=bool)
        for consumer, providers in enumerate(self.depends_on):
            for provider in providers:
                if self.has_api[provider] and provider not in self.contract_tests[consumer]:
                    flag[provider] = True
        return flag


REGION_NAMES = list(REGIONS)


def _unique_names(rng: np.random.Generator, words: list[str], n: int, suffixes: list[str]) -> list[str]:
    names: list[str] = []
    order = rng.permutation(len(words))
    for i in range(n):
        base = words[order[i % len(words)]]
        round_ = i // len(words)
        names.append(base if round_ == 0 else f"{base}-{suffixes[(round_ - 1) % len(suffixes)]}{round_}")
    return names


def _people(rng: np.random.Generator, n_teams: int, horizon: float) -> tuple[list, np.ndarray, ...]:
    year = 365 * 86400
    teams, joins, leaves = [], [], []
    for team in range(n_teams):
        initial = PEOPLE_PER_TEAM + rng.poisson(3)
        joiners = rng.poisson(JOINERS_PER_TEAM_YEAR * horizon / year)
        join = np.concatenate([np.full(initial, -30.0 * 86400), np.sort(rng.uniform(0, horizon, joiners))])
        leave = join + rng.exponential(MEAN_TENURE_YEARS * year, join.size)
        leave[:2] = np.inf  # every team keeps a core
        teams.append(np.full(join.size, team))
        joins.append(join)
        leaves.append(leave)
    person_team = np.concatenate(teams)
    names, seen = [], set()
    for _ in range(person_team.size):
        while True:
            name = f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]}.{LAST_NAMES[rng.integers(len(LAST_NAMES))]}"
            if name not in seen:
                break
            name = f"{name}{rng.integers(2, 99)}"
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    weight = rng.uniform(0.3, 1.0, person_team.size)
    return names, person_team, np.concatenate(joins), np.concatenate(leaves), weight


def _repo(rng: np.random.Generator, service: str, layer: str, has_api: bool) -> RepoFiles:
    language = ["py", "go", "ts"][rng.choice(3, p=[0.5, 0.3, 0.2])]
    src_pattern, test_pattern = LANGUAGES[language]
    n_modules = int(rng.integers(3, 8))
    picks = rng.choice(len(MODULE_WORDS), n_modules, replace=False)
    modules = [MODULE_WORDS[i] for i in picks]
    shared = np.zeros(n_modules, dtype=bool)
    shared[rng.choice(n_modules, 1 + int(rng.random() < 0.4), replace=False)] = True
    paths, kind, module_of = [], [], []
    for m, module in enumerate(modules):
        words = rng.choice(len(FILE_WORDS), int(rng.integers(3, 10)), replace=False)
        for w in words:
            paths.append("src/" + src_pattern.format(m=module, w=FILE_WORDS[w]))
            kind.append(0)
            module_of.append(m)
            paths.append(test_pattern.format(m=module, w=FILE_WORDS[w]))
            kind.append(1)
            module_of.append(m)
    if has_api:
        for path in ("api/openapi.yaml", f"api/{service.replace('-', '_')}.proto"):
            paths.append(path)
            kind.append(2)
            module_of.append(-1)
    for path in ("README.md", "docs/architecture.md", "docs/runbook.md"):
        paths.append(path)
        kind.append(3)
        module_of.append(-1)
    paths.append("assets/diagram.png")
    kind.append(4)
    module_of.append(-1)
    return RepoFiles(paths, np.array(kind), np.array(module_of), modules, shared)


def _dependencies(rng: np.random.Generator, layer: np.ndarray) -> list[list[int]]:
    """Consumers depend on providers in deeper layers; domain services on later-indexed domain ones."""
    n = layer.size
    by_layer = {k: np.flatnonzero(layer == k) for k in range(len(LAYERS))}
    deps: list[list[int]] = []
    for s in range(n):
        chosen: set[int] = set()

        def pick(pool: np.ndarray, lo: int, hi: int) -> None:
            pool = pool[pool != s]
            if pool.size:
                k = min(pool.size, int(rng.integers(lo, hi + 1)))
                chosen.update(int(x) for x in rng.choice(pool, k, replace=False))

        if layer[s] == 0:
            pick(by_layer[1], 1, 2)
        elif layer[s] == 1:
            pick(by_layer[2], 2, 5)
        elif layer[s] == 2:
            pick(by_layer[2][by_layer[2] > s], 0, 2)
            pick(by_layer[3], 0, 2)
            pick(by_layer[4], 1, 2)
        elif layer[s] == 3:
            pick(by_layer[4], 0, 1)
        deps.append(sorted(chosen))
    return deps


def build_org(config: SimulationConfig, rng: np.random.Generator, horizon: float) -> Org:
    """Draw the organisation; `horizon` is the history length in seconds."""
    n_s, n_t = config.services, config.teams
    team_words = _unique_names(rng, TEAM_WORDS, n_t, ["x", "y", "z"])
    team_ids = [f"team-{w}" for w in team_words]
    team_region = [HOME_REGIONS[i % len(HOME_REGIONS)] for i in rng.permutation(n_t)]
    team_tz = np.array([REGION_NAMES.index(r) for r in team_region])
    people, person_team, join, leave, weight = _people(rng, n_t, horizon)

    counts = np.maximum(1, np.round(LAYER_SHARES * n_s)).astype(int)
    counts[2] += n_s - counts.sum()
    layer = np.repeat(np.arange(len(LAYERS)), counts)
    names = _unique_names(rng, SERVICE_WORDS, n_s, ["v", "x", "z"])
    suffix = {0: "edge", 1: "gateway", 2: "api", 3: "lib", 4: "db"}
    service_ids = [f"{names[i]}-{suffix[int(layer[i])]}" for i in range(n_s)]
    owner = np.empty(n_s, dtype=int)
    owner[rng.permutation(n_s)] = np.arange(n_s) % n_t
    tier_probs = {0: [0.8, 0.2, 0.0], 1: [0.7, 0.3, 0.0], 2: [0.3, 0.45, 0.25], 3: [0.1, 0.5, 0.4],
                  4: [0.5, 0.4, 0.1]}
    tier = np.array([1 + rng.choice(3, p=tier_probs[int(k)]) for k in layer])
    team_system = [SYSTEMS[i % len(SYSTEMS)] for i in rng.permutation(max(n_t, len(SYSTEMS)))[:n_t]]
    system = [team_system[o] for o in owner]
    regions = []
    for s in range(n_s):
        home = team_region[owner[s]]
        others = [r for r in REGION_NAMES if r != home]
        extra = rng.choice(len(others), int(rng.choice(3, p=[0.35, 0.45, 0.2])), replace=False)
        regions.append([home] + [others[i] for i in extra])
    tenants = [[TENANTS[i] for i in sorted(rng.choice(len(TENANTS), rng.integers(1, 4), replace=False))]
               if rng.random() < 0.35 else [] for _ in range(n_s)]
    depends_on = _dependencies(rng, layer)
    has_api = layer <= 2
    team_coverage = np.clip(rng.normal(CONTRACT_COVERAGE, 0.1, n_t), 0.5, 0.97)
    contract_tests = [[p for p in deps if has_api[p] and rng.random() < team_coverage[owner[c]]]
                      for c, deps in enumerate(depends_on)]
    api_pairs = [(c, p) for c, deps in enumerate(depends_on) for p in deps if has_api[p]]
    if len(api_pairs) >= 2 and all(p in contract_tests[c] for c, p in api_pairs):
        c, p = api_pairs[int(rng.integers(len(api_pairs)))]  # most, never all, pairs are covered
        contract_tests[c].remove(p)
    created = np.where(rng.random(n_s) < PREEXISTING_SERVICES,
                       -rng.uniform(0.5, 5.0, n_s) * 365 * 86400, rng.uniform(0, 0.8 * horizon, n_s))
    created[np.argsort(created)[:max(2, n_s // 4)]] = np.minimum(created[np.argsort(created)[:max(2, n_s // 4)]], 0)
    team_rate = rng.lognormal(0.0, 0.3, n_t)
    tier_rate = np.array([0.0, 0.85, 1.05, 0.9])[tier]
    layer_rate = np.array([0.9, 1.0, 1.1, 0.55, 0.35])[layer]
    deploy_rate = tier_rate * layer_rate * team_rate[owner] * rng.lognormal(0.0, 0.25, n_s)
    repos = [_repo(rng, service_ids[s], LAYERS[layer[s]], bool(has_api[s])) for s in range(n_s)]
    return Org(
        team_ids=team_ids, team_region=team_region, team_tz=team_tz,
        team_test_rate=rng.uniform(0.25, 0.6, n_t), team_other_rate=rng.uniform(0.06, 0.2, n_t),
        team_skill=rng.uniform(0.5, 1.5, n_t),
        people=people, person_team=person_team, person_join=join, person_leave=leave, person_weight=weight,
        service_ids=service_ids, layer=layer, tier=tier, owner=owner, system=system, regions=regions,
        tenants=tenants, depends_on=depends_on, contract_tests=contract_tests, created=created,
        deploy_rate=deploy_rate, aging=rng.uniform(0.5, 1.5, n_s), has_api=has_api, repos=repos,
    )
