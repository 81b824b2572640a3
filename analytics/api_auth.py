"""Who may read the data API: Bearer tokens from a config file, hashed at rest, each with
its store scopes (and, for a brand, its products), and a rate limit per token.

The config file (TOML) holds no token, only each token's SHA-256: a token is 32 random
bytes (``kiosk-analytics-api new-token`` makes one), so a plain hash cannot be reversed or
guessed, and a stolen config file opens nothing. A request's token is hashed and looked up;
the comparison is constant-time::

    cors_origins = []                       # CORS is off unless origins are named here

    [[tokens]]
    name = "head office"
    sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
    stores = ["*"]                          # every store
    rate_per_minute = 120

    [[tokens]]
    name = "acme brand"
    sha256 = "..."
    stores = ["store-042", "store-043"]
    skus = ["SKU-7", "SKU-9"]               # a brand: only these products' figures
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

#: The scope that reads every store.
EVERY_STORE = "*"


def token_digest(token: str) -> str:
    """The SHA-256 (hex) a token is kept as."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


class TokenEntry(BaseModel):
    """One token of the config file: who it is, its hash, what it may read, how often."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    stores: tuple[str, ...] = Field(min_length=1)
    skus: tuple[str, ...] | None = None
    rate_per_minute: int = Field(default=120, ge=1, le=100_000)

    @field_validator("skus")
    @classmethod
    def _some_skus(cls, skus: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if skus is not None and not skus:
            raise ValueError("a brand token names at least one product (or leave skus out)")
        return skus

    @property
    def every_store(self) -> bool:
        """True when the token reads the whole fleet."""
        return EVERY_STORE in self.stores

    @property
    def brand(self) -> bool:
        """True when the token reads only its products' figures."""
        return self.skus is not None

    def may_read(self, store_id: str) -> bool:
        """True when ``store_id`` is in the token's scope."""
        return self.every_store or store_id in self.stores


class ApiConfig(BaseModel):
    """The data API's config file: the tokens and the origins CORS allows (none: off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: tuple[TokenEntry, ...] = Field(min_length=1)
    cors_origins: tuple[str, ...] = ()

    def find(self, token: str) -> TokenEntry | None:
        """The entry whose hash is the token's (None: an unknown token)."""
        digest = token_digest(token)
        found = None
        for entry in self.tokens:  # every entry compared: the time says nothing of which
            if hmac.compare_digest(entry.sha256, digest):
                found = entry
        return found


class ApiConfigError(ValueError):
    """The config file cannot be used: one line naming the file and the key."""


def load_api_config(path: Path) -> ApiConfig:
    """Read and check the config file; :class:`ApiConfigError` naming what is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ApiConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ApiConfigError(f"{path}: not TOML: {exc}") from exc
    try:
        return ApiConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ApiConfigError(f"{path}: {where}: {first['msg']}") from exc


class RateLimiter:
    """A token bucket per API token: ``rate_per_minute`` requests a minute, in bursts of
    at most as many. Thread-safe; ``clock`` is monotonic seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # digest -> (tokens, at)

    def take(self, entry: TokenEntry) -> int:
        """0 when the request may go on, else the whole seconds until it may (Retry-After)."""
        per_s = entry.rate_per_minute / 60
        capacity = float(entry.rate_per_minute)
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(entry.sha256, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * per_s)
            if tokens >= 1:
                self._buckets[entry.sha256] = (tokens - 1, now)
                return 0
            self._buckets[entry.sha256] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / per_s))
