"""Settings of a store's task worker, from arguments or from ``PRIVOPS_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerConfig:
    """Where the broker and the DSAR service are, how to authenticate, and which tenants to serve."""

    system: str
    bootstrap_servers: str
    dsar_url: str | None = None
    identity_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    jwt_secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    tenants: tuple[str, ...] = ()
    topic_prefix: str = ""
    ledger_path: str = ":memory:"
    session_timeout_ms: int = 10_000
    max_attempts: int = 3
    retry_backoff_s: float = 0.5
    http_timeout_s: float = 30.0
    # Tasks of different subjects in a poll are carried out side by side, up to this many at once (the
    # claim check, the store's method and the answer overlap); one subject's tasks stay in order. 1: one by one.
    concurrency: int = 8
    # The services' *_SUBJECT_HASH_KEY (same secret): lets the store compute its people's subject
    # references and skip those a sweep names as held. Without it, a sweep naming held subjects is refused.
    subject_key: bytes | None = field(default=None, repr=False)
    # For a broker that forgets its log when it restarts (the local Tansu): heartbeat markers tell the
    # worker to re-read its partitions and re-send its answers. Off against Kafka, whose log survives.
    broker_epoch: bool = False

    def __post_init__(self) -> None:
        credentials = bool(self.identity_url and self.client_id and self.client_secret)
        if not (credentials or self.jwt_secret or self.token):
            raise ValueError(
                "give the store's client credentials (PRIVOPS_IDENTITY_URL, PRIVOPS_CLIENT_ID, PRIVOPS_CLIENT_SECRET), "
                "a fixed token (PRIVOPS_TOKEN), or in development the shared PRIVOPS_JWT_SECRET"
            )
        if self.concurrency < 1:
            raise ValueError("concurrency: at least 1 (one task at a time)")
        if (credentials or self.token) and not self.jwt_secret and len(self.tenants) != 1:
            raise ValueError("a client or a fixed token acts for one tenant: set exactly one tenant (PRIVOPS_TENANTS)")

    def topic(self, name: str) -> str:
        """The full topic name."""
        return f"{self.topic_prefix}{name}"

    @property
    def group_id(self) -> str:
        """The store's consumer group: one per system and set of tenants, shared by its replicas.

        Processes of one system serving different tenants (a store client acts for one tenant) read the
        topic each in its own group: in a shared group each would skip, and commit, the other's tasks.
        """
        tenants = f".{'+'.join(sorted(self.tenants))}" if self.tenants else ""
        return f"{self.topic_prefix}privops.store.{self.system}{tenants}"

    @classmethod
    def from_env(
        cls, system: str, env: Mapping[str, str] | None = None, *, ledger_path: str = ":memory:"
    ) -> WorkerConfig:
        """Read PRIVOPS_KAFKA_BOOTSTRAP_SERVERS, PRIVOPS_DSAR_URL, the store's client credentials
        (PRIVOPS_IDENTITY_URL, PRIVOPS_CLIENT_ID, PRIVOPS_CLIENT_SECRET; or PRIVOPS_TOKEN; or in development
        PRIVOPS_JWT_SECRET),
        PRIVOPS_TENANTS (comma-separated, default ``demo``), PRIVOPS_TOPIC_PREFIX, PRIVOPS_SUBJECT_HASH_KEY
        (optional: the same secret as the services' ``*_SUBJECT_HASH_KEY``, needed to honour held subjects)
        PRIVOPS_BROKER_EPOCH (``true`` for a broker that forgets its log; default false) and PRIVOPS_CONCURRENCY
        (tasks of different subjects carried out at once; default 8)."""
        values = os.environ if env is None else env
        missing = [n for n in ("PRIVOPS_KAFKA_BOOTSTRAP_SERVERS", "PRIVOPS_DSAR_URL") if not values.get(n)]
        if missing:
            raise SystemExit(f"{system}: missing environment variable(s): {', '.join(missing)}")
        tenants = tuple(t.strip() for t in values.get("PRIVOPS_TENANTS", "demo").split(",") if t.strip())
        return cls(
            system=system,
            bootstrap_servers=values["PRIVOPS_KAFKA_BOOTSTRAP_SERVERS"],
            dsar_url=values["PRIVOPS_DSAR_URL"],
            identity_url=values.get("PRIVOPS_IDENTITY_URL") or None,
            client_id=values.get("PRIVOPS_CLIENT_ID") or None,
            client_secret=values.get("PRIVOPS_CLIENT_SECRET") or None,
            jwt_secret=values.get("PRIVOPS_JWT_SECRET") or None,
            token=values.get("PRIVOPS_TOKEN") or None,
            tenants=tenants,
            topic_prefix=values.get("PRIVOPS_TOPIC_PREFIX", ""),
            ledger_path=ledger_path,
            session_timeout_ms=int(values.get("PRIVOPS_SESSION_TIMEOUT_MS", "10000")),
            subject_key=(values.get("PRIVOPS_SUBJECT_HASH_KEY") or "").encode() or None,
            broker_epoch=_flag(values, "PRIVOPS_BROKER_EPOCH"),
            concurrency=int(values.get("PRIVOPS_CONCURRENCY", "8")),
        )


def _flag(values: Mapping[str, str], name: str) -> bool:
    """A boolean variable: true/false, 1/0, yes/no, on/off (any case); unset or empty is false."""
    raw = values.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SystemExit(f"{name}: expected true or false, got {raw!r}")
