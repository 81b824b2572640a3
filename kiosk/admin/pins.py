"""Staff PINs: salted scrypt hashes, the lockout gate, and ``kiosk set-pin``.

No Qt here: ``kiosk set-pin`` runs on a shop PC without a display, and the PIN pad's logic is
tested without widgets. A PIN is never stored; only ``scrypt$N$r$p$salt$hash`` (base64) is,
in a file readable by its owner only.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from settings.loader import DEFAULT_CONFIG, ConfigError, load_config
from settings.model import AdminSection, KioskConfig

log = logging.getLogger(__name__)

Role = Literal["staff", "manager"]
ROLES: tuple[Role, ...] = ("staff", "manager")

#: scrypt cost: about 50 ms on a small edge PC, far too slow to try 10^6 PINs offline quickly
#: and fast enough that checking both roles does not keep staff waiting.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8


class PinError(ValueError):
    """A PIN or PIN hash that cannot be used; the message says why in one line."""


def check_pin_format(pin: str) -> None:
    """Raise :class:`PinError` unless ``pin`` is 4 to 8 digits (the pad has digits only)."""
    if not pin.isdigit() or not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise PinError(f"a PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (0-9)")


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """A new salted scrypt hash of ``pin``: ``scrypt$N$r$p$salt$key`` (base64 parts)."""
    check_pin_format(pin)
    salt = secrets.token_bytes(_SALT_BYTES)
    key = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(key).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches the ``stored`` hash (constant-time compare).

    Raises :class:`PinError` when ``stored`` is not a hash this module wrote.
    """
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise PinError(
            "the PIN hash is not in the scrypt$N$r$p$salt$key form `kiosk set-pin` writes"
        )
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise PinError("the PIN hash is damaged (bad numbers or base64)") from None
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise PinError("the PIN hash has scrypt parameters out of range")
    # 128 * r * n bytes of memory: raise OpenSSL's default cap to what these parameters need.
    maxmem = 256 * r * n + 1024 * 1024
    key = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=maxmem)
    return hmac.compare_digest(key, expected)


def default_pin_file(config_path: Path, role: Role, data_dir: Path | None) -> Path:
    """Where ``kiosk set-pin`` puts a role's hash when the config names no file:
    ``staff.pin`` / ``manager.pin`` next to the config file; for the shipped defaults (a
    kiosk started without a config, whose defaults sit inside the installed package, often
    read-only), in the data directory."""
    if data_dir is not None and config_path.resolve() == DEFAULT_CONFIG.resolve():
        return data_dir / f"{role}.pin"
    return config_path.parent / f"{role}.pin"


class PinFileError(PinError):
    """A PIN file the config names cannot be read: that role has no PIN until it can."""


def pin_hash_for(config: KioskConfig, role: Role) -> str | None:
    """The stored hash for ``role``, read now: the file ``[admin] <role>_pin_hash_file``
    names, else the inline ``<role>_pin_hash``, else ``<role>.pin`` next to the config;
    None when the role has no PIN.

    Files are read at each use, so a PIN set, changed or revoked with ``kiosk set-pin`` (or by
    removing its file) counts at the next PIN entry, without a restart. Raises
    :class:`PinFileError` when a file the config names cannot be read. Call it off the UI
    thread.
    """
    named: Path | None = getattr(config.admin, f"{role}_pin_hash_file")
    if named is not None:
        try:
            text = named.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise PinFileError(f"{role} PIN file {named}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise PinFileError(f"{role} PIN file {named}: cannot be read ({reason})") from None
        return text or None
    secret = getattr(config.admin, f"{role}_pin_hash")
    if secret is not None and secret.get_secret_value().strip():
        return str(secret.get_secret_value()).strip()
    if config.source is not None:
        candidate = default_pin_file(config.source, role, config.paths.data_dir)
        try:
            text = candidate.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return text or None
    return None


@dataclass(frozen=True)
class PinStatus:
    """Which roles have a PIN now, and the PIN files that cannot be read (one line each)."""

    roles: tuple[Role, ...]
    problems: tuple[str, ...]


def pin_status(config: KioskConfig) -> PinStatus:
    """Read every role's PIN source now (off the UI thread): what the pad tells staff."""
    roles: list[Role] = []
    problems: list[str] = []
    for role in ROLES:
        try:
            if pin_hash_for(config, role) is not None:
                roles.append(role)
        except PinFileError as exc:
            problems.append(str(exc))
    return PinStatus(tuple(roles), tuple(problems))


def check_pin(config: KioskConfig, pin: str) -> Role | None:
    """The highest role whose PIN is ``pin`` (manager before staff), or None.

    Slow on purpose (scrypt): call it off the UI thread. A damaged hash or an unreadable PIN
    file is logged and treated as no match, so one bad file does not lock staff out of the
    other role.
    """
    for role in ("manager", "staff"):
        try:
            stored = pin_hash_for(config, role)
            if stored is not None and verify_pin(pin, stored):
                return role
        except PinError as exc:
            log.error("admin %s PIN: %s", role, exc)
    return None


def roles_with_pins(config: KioskConfig) -> list[Role]:
    """The roles that have a PIN set (so the pad can say when none has)."""
    return list(pin_status(config).roles)


@dataclass(frozen=True)
class GateState:
    """What the PIN pad shows: attempts left before lockout, and seconds of lockout left."""

    attempts_left: int
    locked_for_s: float

    @property
    def locked(self) -> bool:
        """True while wrong PINs have locked the pad."""
        return self.locked_for_s > 0


#: The file in the data directory that keeps the lockout across restarts and power cuts.
LOCKOUT_FILE = "admin-lockout.json"


class PinGate:
    """Counts wrong PINs and locks the pad: ``lockout_attempts`` wrong in a row lock it, for
    ``lockout_s`` the first time and twice as long each time after (up to ``lockout_max_s``)
    until a right PIN is entered. A 4-digit PIN therefore cannot fall to patience: at 5 tries
    per lockout, trying half of the 10,000 PINs takes over two years at the default cap.

    With a ``store`` file the count, the escalation level and the end of the lockout survive a
    restart or a power cut: :meth:`load` reads it, :meth:`save` writes it (both do file I/O:
    call them off the UI thread; both are thread-safe). ``clock`` (monotonic seconds) drives
    the countdown and is injectable for tests; ``wall_clock`` (epoch seconds) is only used to
    carry the lockout's end across a restart.
    """

    def __init__(
        self,
        settings: AdminSection,
        *,
        store: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._attempts = settings.lockout_attempts
        self._lockout_s = settings.lockout_s
        self._lockout_max_s = max(settings.lockout_max_s, settings.lockout_s)
        self._store = store
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._failures = 0
        #: Lockouts since the last right PIN: the next one lasts lockout_s * 2**level.
        self._level = 0
        self._locked_until = 0.0
        self._save_failed = False

    def lockout_for(self, level: int) -> float:
        """How long the ``level``-th lockout in a row lasts (0 is the first)."""
        return min(self._lockout_s * 2.0 ** min(level, 32), self._lockout_max_s)

    def state(self) -> GateState:
        """Attempts left and lockout seconds left, now."""
        with self._lock:
            left = max(0.0, self._locked_until - self._clock())
            if left == 0.0 and self._failures >= self._attempts:
                self._failures = 0  # the lockout has run out: a fresh set of attempts
            return GateState(attempts_left=self._attempts - self._failures, locked_for_s=left)

    def failed(self) -> GateState:
        """Count one wrong PIN; returns the new state (locked after the last attempt)."""
        if self.state().locked:
            return self.state()
        with self._lock:
            self._failures += 1
            if self._failures >= self._attempts:
                duration = self.lockout_for(self._level)
                self._level += 1
                self._locked_until = self._clock() + duration
                log.warning(
                    "admin PIN pad locked for %.0fs after %d wrong PINs (lockout %d in a row)",
                    duration,
                    self._failures,
                    self._level,
                )
        return self.state()

    def succeeded(self) -> None:
        """A right PIN: the count of wrong ones and the escalation start again."""
        with self._lock:
            self._failures = 0
            self._level = 0
            self._locked_until = 0.0

    def save(self) -> None:
        """Write the gate's state to its store file atomically (no-op without a store).
        A failure is logged once (the gate still works in memory) and raised no further."""
        if self._store is None:
            return
        with self._lock:
            left = max(0.0, self._locked_until - self._clock())
            record = {
                "failures": self._failures,
                "level": self._level,
                "locked_until_epoch": self._wall_clock() + left if left > 0 else 0.0,
            }
            try:
                self._store.parent.mkdir(parents=True, exist_ok=True)
                partial = self._store.with_name(f".{self._store.name}.partial")
                partial.write_text(json.dumps(record), encoding="utf-8")
                os.replace(partial, self._store)
            except OSError as exc:
                if not self._save_failed:
                    log.error(
                        "admin lockout cannot be kept across restarts: %s: %s",
                        self._store,
                        exc.strerror or exc,
                    )
                self._save_failed = True
                return
            self._save_failed = False

    def load(self) -> None:
        """Take over what the store file kept (a lockout survives a power cut). Merges with
        what was counted since start, keeping the stricter of the two. A damaged file is
        named in the log and ignored."""
        if self._store is None:
            return
        try:
            record = json.loads(self._store.read_text(encoding="utf-8"))
            failures = int(record["failures"])
            level = int(record["level"])
            until_epoch = float(record["locked_until_epoch"])
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("admin lockout file %s is damaged and ignored: %s", self._store, exc)
            return
        with self._lock:
            self._failures = max(self._failures, min(max(failures, 0), self._attempts))
            self._level = max(self._level, min(max(level, 0), 64))
            left = until_epoch - self._wall_clock()
            # a wall clock set back must not stretch a lockout beyond the one it was
            left = min(left, self.lockout_for(max(self._level - 1, 0)))
            if left > 0:
                self._locked_until = max(self._locked_until, self._clock() + left)
                log.warning("admin PIN pad still locked for %.0fs (kept across a restart)", left)


# -- kiosk set-pin ----------------------------------------------------------------------------


def _config_path(given: Path | None, env: Mapping[str, str]) -> Path:
    if given is not None:
        return given.expanduser().resolve()
    if env.get("KIOSK_CONFIG"):
        return Path(env["KIOSK_CONFIG"]).expanduser().resolve()
    return DEFAULT_CONFIG


def pin_file_target(config_path: Path, role: Role, env: Mapping[str, str]) -> Path:
    """The file ``kiosk set-pin`` writes for ``role``: the one the config (or the
    ``KIOSK_ADMIN__<ROLE>_PIN_HASH_FILE`` variable) names, else ``<role>.pin`` next to the
    config. Raises :class:`PinError` when an inline hash would hide the new file."""
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PinError(f"{config_path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PinError(f"{config_path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PinError(f"{config_path}: not valid TOML: {exc}") from None
    admin = raw.get("admin", {})
    if not isinstance(admin, dict):
        raise PinError(f"{config_path}: [admin] is not a table")
    file_var = f"KIOSK_ADMIN__{role.upper()}_PIN_HASH_FILE"
    inline_var = f"KIOSK_ADMIN__{role.upper()}_PIN_HASH"
    named = env.get(file_var) or admin.get(f"{role}_pin_hash_file")
    if named:
        path = Path(str(named)).expanduser()
        return path if path.is_absolute() else (config_path.parent / path).resolve()
    if env.get(inline_var):
        raise PinError(
            f"environment variable {inline_var} sets the {role} PIN hash and would hide a "
            f"file; unset it, or set {file_var}"
        )
    if admin.get(f"{role}_pin_hash"):
        raise PinError(
            f"{config_path}: [admin] {role}_pin_hash is set inline and would hide a file; "
            f"remove it, or set {role}_pin_hash_file"
        )
    data_dir = None
    if config_path.resolve() == DEFAULT_CONFIG.resolve():
        try:
            data_dir = load_config(config_path, env=env).paths.data_dir
        except ConfigError as exc:
            raise PinError(str(exc)) from None
    return default_pin_file(config_path, role, data_dir)


def write_pin_hash(path: Path, hashed: str) -> None:
    """Write ``hashed`` to ``path`` atomically with 0600 permissions (never readable by
    others, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(hashed + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _read_pin(stdin_pin: bool) -> str:
    if stdin_pin or not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    first = getpass.getpass("new PIN (4-8 digits): ")
    check_pin_format(first)
    again = getpass.getpass("the same PIN again: ")
    if again != first:
        raise PinError("the two PINs differ; nothing was changed")
    return first


def set_pin_main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """``kiosk set-pin --role staff|manager [--config PATH] [--stdin]``: ask for a PIN (twice,
    hidden; or one line on standard input) and write its salted scrypt hash. Returns the exit
    status: 0 done, 2 bad input (one line on stderr)."""
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(
        prog="kiosk set-pin",
        description="Set the PIN of the admin panel's staff or manager role. Only a salted "
        "scrypt hash is written, to [admin] <role>_pin_hash_file or <role>.pin next to the "
        "config, readable by its owner only. A running kiosk uses it at the next PIN entry.",
    )
    parser.add_argument("--role", choices=ROLES, required=True, help="whose PIN to set")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="TOML config file (default: $KIOSK_CONFIG, else resources/kiosk.toml)",
    )
    parser.add_argument(
        "--stdin",
        action="store_true",
        help="read the PIN from one line of standard input (scripts)",
    )
    args = parser.parse_args(argv)
    prog = "kiosk set-pin"
    config_path = _config_path(args.config, env)
    try:
        target = pin_file_target(config_path, args.role, env)
        pin = _read_pin(args.stdin)
        check_pin_format(pin)
        write_pin_hash(target, hash_pin(pin))
    except PinError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print(f"{prog}: cancelled; nothing was changed", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{args.role} PIN set ({target})")
    return 0
