"""Configuration, read from CB_* environment variables; the defaults are the embedded setup."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CB_", env_file=".env", extra="ignore")

    # Embedded default: a SQLite file under data_dir and the in-process broker.
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""  # signs user tokens; when empty a random one is kept in the database
    log_level: str = "INFO"
    demo_pace: float = 0.0  # records a second replayed from the sample feeds; 0 = no replay

    # Ingest
    max_batch_items: int = 1000
    max_body_bytes: int = 10 * 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    extra_adapters: dict[str, str] = Field(default_factory=dict)  # source -> module path

    # Merging rule (docs/workflow.md, "Reports into incidents")
    merge_window_hours: float = 72.0
    merge_distance_m: float = 50.0

    # Incidents
    sla_rules: str = ""  # JSON; empty means the documented defaults
    sla_check_interval_s: float = 30.0
    attachments_dir: Path | None = None
    max_attachment_bytes: int = 10 * 1024 * 1024

    # Auth
    access_token_ttl_s: int = 12 * 3600
    argon2_time_cost: int | None = None  # None: the library's recommended cost
    argon2_memory_kib: int | None = None
    ws_ticket_ttl_s: int = 60

    # Live stream
    ws_ping_after_s: float = 15.0
    ws_client_queue: int = 2000
    ws_replay_limit: int = 10_000  # a since older than this many events gets a snapshot
    live_poll_interval_s: float = 1.0  # safety net: the hub checks the ledger head this often
    # A stream whose key is revoked, or whose user is deactivated or given a new password, ends within this.
    live_recheck_s: float = Field(default=30.0, gt=0)

    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    # addresses or networks, "*" for any). Empty: nobody's, so a client cannot pick the address the
    # rate limits count by sending the header itself.
    trusted_proxies: str = ""

    # Rate limits (requests per minute)
    ingest_rate_per_key: int = 600_000  # records a minute per key (10,000 a second)
    ingest_rate_per_ip: int = 60_000  # requests a minute per address
    login_rate_per_ip: int = 20
    login_rate_per_user: int = 10

    # Webhooks
    webhook_timeout_s: float = 5.0
    webhook_poll_interval_s: float = 2.0  # 0 = no delivery worker in this process
    webhook_max_attempts: int = 25  # then the delivery is failed; an admin may retry it (docs/workflow.md)
    webhook_backoff_base_s: float = 10.0
    webhook_backoff_cap_s: float = 3600.0
    # Comma-separated hosts (or host:port) a webhook may call although they are not public
    # addresses, e.g. a receiver on the same network; everything else must resolve publicly.
    webhook_allowed_hosts: str = ""

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value.encode()) < 32:
            raise ValueError("CB_SECRET_KEY must be at least 32 bytes (HS256 needs a 256-bit key)")
        return value

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'community-brain.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_attachments_dir(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"
