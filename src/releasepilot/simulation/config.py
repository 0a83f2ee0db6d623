"""Settings of one simulation run, and the fixed vocabularies the generator draws names from."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from releasepilot.errors import InputError

DEFAULT_SEED = 7
DEFAULT_SERVICES = 40
DEFAULT_TEAMS = 8
DEFAULT_DAYS = 730
DEFAULT_START = "2024-11-01"

# region -> IANA time zone (a service runs in 1-3 of these; a team works in its home region's zone)
REGIONS: dict[str, str] = {
    "us-east-1": "America/New_York",
    "us-west-2": "America/Los_Angeles",
    "eu-west-1": "Europe/Dublin",
    "eu-central-1": "Europe/Berlin",
    "ap-southeast-1": "Asia/Singapore",
    "ap-northeast-1": "Asia/Tokyo",
    "sa-east-1": "America/Sao_Paulo",
}
HOME_REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-1"]

SYSTEMS = ["commerce", "identity", "logistics", "payments", "search", "platform", "analytics", "messaging"]
TENANTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka"]
TEAM_WORDS = ["payments", "checkout", "identity", "search", "platform", "logistics", "growth", "data",
              "mobile", "core", "billing", "catalog", "fulfil", "notify", "infra", "risk", "ledger",
              "pricing", "media", "support"]
SERVICE_WORDS = ["checkout", "cart", "orders", "payments", "ledger", "invoice", "users", "auth", "session",
                 "profile", "search", "catalog", "pricing", "inventory", "shipping", "tracking", "notify",
                 "email", "sms", "reviews", "media", "images", "reports", "billing", "refunds", "coupons",
                 "loyalty", "fraud", "risk", "tax", "accounts", "audit", "config", "flags", "quotes",
                 "returns", "wallet", "rates", "geo", "feeds"]
MODULE_WORDS = ["api", "core", "handlers", "models", "storage", "cache", "auth", "billing", "cart", "client",
                "config", "events", "jobs", "metrics", "orders", "payments", "queue", "routing", "schema",
                "search", "session", "sync", "users", "utils", "validation", "webhooks", "workers", "common"]
FILE_WORDS = ["service", "handler", "client", "model", "repository", "mapper", "router", "worker", "cache",
              "validator", "schema", "adapter", "factory", "policy", "settings", "retry", "limits", "store"]
FIRST_NAMES = ["alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken",
               "lena", "mallory", "nina", "oscar", "peggy", "quinn", "rita", "sam", "trent", "uma",
               "victor", "wendy", "xavier", "yara", "zoe", "amir", "bea", "chen", "dara", "emeka", "fatima",
               "goran", "hana", "ines", "jonas", "kofi", "lucia", "mei", "noor"]
LAST_NAMES = ["ng", "smith", "garcia", "kim", "okafor", "muller", "rossi", "tanaka", "silva", "novak",
              "patel", "dubois", "larsen", "cohen", "ivanova", "khan", "lopez", "nakamura", "obi", "berg"]


class SimulationConfig(BaseModel):
    """What to simulate: organisation size, history length, release volume and drift strength."""

    model_config = ConfigDict(frozen=True)

    seed: int = DEFAULT_SEED
    services: int = Field(DEFAULT_SERVICES, ge=4, le=2000)
    teams: int = Field(DEFAULT_TEAMS, ge=2, le=200)
    days: int = Field(DEFAULT_DAYS, ge=30, le=3650)
    scale: float = Field(1.0, gt=0.0, le=100.0)
    drift: float = Field(1.0, ge=0.0, le=5.0)
    start: str = DEFAULT_START

    @field_validator("start")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InputError(f"expected an ISO date like 2024-11-01, got {value!r}", field="start") from None
        return value

    @property
    def start_date(self) -> date:
        return date.fromisoformat(self.start)
