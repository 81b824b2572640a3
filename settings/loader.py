"""Read, override and validate the kiosk's TOML config, with errors staff can act on."""

from __future__ import annotations

import copy
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, SecretStr, ValidationError

from settings.model import KioskConfig, ResolvedPath
from settings.overlay import STAFF_OVERLAY_NAME, StaffOverlay
from settings.resources import (
    ResourceError,
    builtin_name,
    default_config_path,
    resource_path,
    resource_root,
)

log = logging.getLogger(__name__)

APP_NAME = "retail-edge-kiosk"
ENV_PREFIX = "KIOSK_"
#: The shipped files (resources/ in the repository, the kiosk_resources package when
#: installed: see settings.resources): the default config, the demo, the schemas.
RESOURCES = resource_root()
DEFAULT_CONFIG = default_config_path()

# Secret fields that may instead be read from a file named by "<field>_file", read at start.
# The admin PIN files are not among them: the admin panel reads them at each PIN entry
# (kiosk.admin.pins), so a changed or revoked PIN counts at once and a missing PIN file does
# not stop the kiosk starting.
_SECRET_FILE_FIELDS = {
    ("redis", "password"),
    ("uplink", "password"),
}
# Path fields taken relative to the folder of the config file ("builtin:NAME" names a shipped
# file instead, which works from a copy of the defaults in any folder).
_RELATIVE_PATHS = {
    ("kiosk", "experience"),
    ("paths", "data_dir"),
    ("paths", "log_dir"),
    ("storage", "database"),
    ("redis", "password_file"),
    ("redis", "ca_file"),
    ("uplink", "ca_file"),
    ("uplink", "cert_file"),
    ("uplink", "key_file"),
    ("uplink", "password_file"),
    ("admin", "staff_pin_hash_file"),
    ("admin", "manager_pin_hash_file"),
}
# Of those, the ones the kiosk makes when they are missing (the others must be there).
_MADE_AT_START = {("paths", "data_dir"), ("paths", "log_dir"), ("storage", "database")}


class ConfigError(ValueError):
    """A config file or override that cannot be used; ``str()`` is one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_config(
    path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> KioskConfig:
    """Load ``path`` (default: ``resources/kiosk.toml``), apply ``KIOSK_*`` overrides from
    ``env`` (default: ``os.environ``), validate, and resolve paths and secret files.

    Staff's changes kept in the data folder (:mod:`settings.overlay`) are laid over the
    file, under the ``KIOSK_*`` overrides. Raises :class:`ConfigError` naming the file, the
    key and what is allowed.
    """
    env = os.environ if env is None else env
    if path is None and env.get("KIOSK_CONFIG"):
        path = env["KIOSK_CONFIG"]
    source = Path(path).expanduser().resolve() if path is not None else DEFAULT_CONFIG
    where = str(source)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"config error: {where}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"config error: {where}: cannot be read ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"config error: {where}: not valid TOML: {exc}"]) from None

    written = copy.deepcopy(raw)
    from_env = _apply_env(raw, env)
    try:
        config = KioskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where, from_env)) from None
    _resolve(config, source.parent, where)
    config._source = source
    return _with_staff_changes(config, written, env)


def _with_staff_changes(
    config: KioskConfig, written: dict[str, object], env: Mapping[str, str]
) -> KioskConfig:
    """``config`` with staff's changes (``<data_dir>/staff-config.toml``) laid over the
    file as ``written``, under the environment's overrides; each value taken is logged with
    the file it came from, a value the model refuses is logged and left out."""
    source = config.source
    assert source is not None
    overlay = StaffOverlay.open(config.data_path(STAFF_OVERLAY_NAME))
    values = dict(overlay.values)
    while values:
        raw = copy.deepcopy(written)
        for key, value in values.items():
            _set_at(raw, tuple(key.split(".")), value)
        from_env = _apply_env(raw, env)
        try:
            staffed = KioskConfig.model_validate(raw)
        except ValidationError as exc:
            for key in _refused_keys(exc, values):
                log.error("config: %s = %r from %s not taken: %s", key, values.pop(key),
                          overlay.path, exc.errors(include_url=False)[0]["msg"])  # fmt: skip
            continue
        _resolve(staffed, source.parent, str(source))
        staffed._source = source
        for key in sorted(values):
            variable = from_env.get(tuple(key.split(".")))
            if variable is not None:
                log.warning("config: %s from %s is overridden by %s", key, overlay.path, variable)
            else:
                log.info("config: %s = %r from %s (changed on the kiosk at %s), over %s", key,
                         values[key], overlay.path, overlay.when(key), source)  # fmt: skip
        return staffed
    return config


def _refused_keys(exc: ValidationError, values: Mapping[str, object]) -> list[str]:
    """The overlay's keys the model's errors point at (all of them when none is named)."""
    refused: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"])
        refused.update(k for k in values if k.startswith(loc) or loc.startswith(k))
    return sorted(refused) or sorted(values)


def _apply_env(raw: dict[str, object], env: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Merge ``KIOSK_SECTION__KEY[__SUBKEY]=value`` into ``raw``; return loc -> variable name."""
    applied: dict[tuple[str, ...], str] = {}
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        loc = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        if any(not part for part in loc):
            continue
        _set_at(raw, loc, _env_value(value))
        applied[loc] = name
    return applied


def _set_at(raw: dict[str, object], loc: tuple[str, ...], value: object) -> None:
    """Set ``raw[loc[0]][loc[1]]... = value``, making (or replacing) the tables on the way."""
    node = raw
    for part in loc[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[loc[-1]] = value


def _env_value(value: str) -> object:
    """Lists and tables are written as TOML (``[0.1, 0.2, 0.9, 0.9]``); the rest is given
    to the model as a string, which it converts to the field's type."""
    stripped = value.strip()
    if stripped[:1] in "[{" and stripped:
        try:
            return tomllib.loads(f"v = {stripped}")["v"]
        except tomllib.TOMLDecodeError:
            return value
    return value


def _describe(
    exc: ValidationError, where: str, from_env: Mapping[tuple[str, ...], str]
) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(str(part) for part in error["loc"])
        origin = from_env.get(loc)
        place = f"environment variable {origin}" if origin else where
        key = _key_name(loc)
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(loc[:-1]))
            what = "section" if len(loc) == 1 else "key"
            problems.append(f"config error: {place}: unknown {what} {key}; allowed: {allowed}")
        else:
            value = error.get("input")
            shown = "" if isinstance(value, dict) else f" = {value!r}"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"config error: {place}: {key}{shown}: {message}")
    return problems


def _key_name(loc: tuple[str, ...]) -> str:
    if not loc:
        return "(top level)"
    if len(loc) == 1:
        return f"[{loc[0]}]"
    return f"[{'.'.join(loc[:-1])}] {loc[-1]}"


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    model: type[BaseModel] = KioskConfig
    for part in parent:
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _resolve(config: KioskConfig, base: Path, where: str) -> None:
    """Make relative paths absolute, fill the data-dir defaults, read secret files; note for
    each path how it was written and where it resolved (``config.resolved_paths``)."""
    resolved: dict[tuple[str, str], ResolvedPath] = {}
    for section_name, field in sorted(_RELATIVE_PATHS):
        entry = _resolve_path(config, section_name, field, base, where)
        if entry is not None:
            resolved[(section_name, field)] = entry
    _fill_data_defaults(config, resolved)
    config._resolved_paths = [resolved[key] for key in sorted(resolved)]
    _read_secret_files(config, where)


def _resolve_path(
    config: KioskConfig, section_name: str, field: str, base: Path, where: str
) -> ResolvedPath | None:
    """Resolve one path field in place: a shipped ``builtin:`` file, an absolute path, or a
    path relative to the config file's folder (a default: to the shipped resources)."""
    section = getattr(config, section_name)
    value = getattr(section, field)
    if value is None:
        return None
    written = field in section.model_fields_set
    name = builtin_name(value)
    if name is not None:
        try:
            path = resource_path(name)
        except ResourceError as exc:
            raise ConfigError(
                [f"config error: {where}: [{section_name}] {field} = {str(value)!r}: {exc}"]
            ) from None
        how = "shipped with the kiosk"
    else:
        value = value.expanduser()
        # A default names a file shipped in resources/, wherever the config file is.
        origin = base if written else RESOURCES
        path = value if value.is_absolute() else (origin / value).resolve()
        how = "absolute" if value.is_absolute() else f"relative to {origin}"
    setattr(section, field, path)
    return ResolvedPath(
        section=section_name,
        key=field,
        written=str(value),
        path=path,
        how=how if written else f"default, {how}",
        made_at_start=(section_name, field) in _MADE_AT_START,
    )


def _fill_data_defaults(config: KioskConfig, resolved: dict[tuple[str, str], ResolvedPath]) -> None:
    """Put the data folder, log folder and database where they go when the config names none,
    and note each in ``resolved``."""
    paths = config.paths
    defaults = {
        ("paths", "data_dir"): "the user's data folder",
        ("paths", "log_dir"): "<data_dir>/logs",
        ("storage", "database"): "<data_dir>/events.sqlite",
    }
    if paths.data_dir is None:
        import platformdirs  # only then: a kiosk's config names its data folder (issue 17)

        paths.data_dir = Path(platformdirs.user_data_dir(APP_NAME))
    if paths.log_dir is None:
        paths.log_dir = paths.data_dir / "logs"
    if config.storage.database is None:
        config.storage.database = paths.data_dir / "events.sqlite"
    for (section_name, field), how in defaults.items():
        if (section_name, field) not in resolved:
            resolved[(section_name, field)] = ResolvedPath(
                section=section_name,
                key=field,
                written=None,
                path=getattr(getattr(config, section_name), field),
                how=f"default: {how}",
                made_at_start=True,
            )


def _read_secret_files(config: KioskConfig, where: str) -> None:
    """Read each ``<field>_file`` secret into its field; an unreadable file is a config error."""
    for section_name, field in sorted(_SECRET_FILE_FIELDS):
        section = getattr(config, section_name)
        secret_file: Path | None = getattr(section, f"{field}_file")
        if secret_file is None:
            continue
        try:
            text = secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [
                    f"config error: {where}: [{section_name}] {field}_file: "
                    f"cannot read {secret_file} ({exc.strerror or exc})"
                ]
            ) from None
        setattr(section, field, SecretStr(text))


def render_config(config: KioskConfig) -> str:
    """The effective config as TOML, secrets masked (for ``kiosk --print-config``)."""
    data = config.model_dump(mode="python", exclude_none=True)

    import tomli_w  # for --print-config only, not at every start (issue 17)

    header = f"# effective config, from {config.source}\n" if config.source else ""
    return header + tomli_w.dumps(_toml_table(data)) + describe_paths(config)


def _toml_table(table: Mapping[str, object]) -> dict[str, object]:
    """A dumped config table as TOML can hold it: secrets masked, paths as strings."""
    return {key: _toml_value(value) for key, value in table.items()}


def _toml_value(value: object) -> object:
    if isinstance(value, dict):
        return _toml_table(value)
    if isinstance(value, list):
        return [_toml_value(item) for item in value]
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, Path):
        return str(value)
    return value


def describe_paths(config: KioskConfig) -> str:
    """Where each path of the config resolves and whether it is there, as TOML comments (empty
    for a config not read by :func:`load_config`)."""
    if not config.resolved_paths:
        return ""
    lines = ["", "# paths: as written -> where they resolve, and whether they are there"]
    for entry in config.resolved_paths:
        written = f" = {entry.written!r}" if entry.written is not None else ""
        lines.append(f"#   [{entry.section}] {entry.key}{written} ({entry.how})")
        lines.append(f"#     -> {entry.path}: {entry.state()}")
    return "\n".join(lines) + "\n"


def set_path(config: KioskConfig, section: str, key: str, path: Path, how: str) -> None:
    """Set a path field after loading (a command-line option such as ``--experience``) and
    note it for :func:`describe_paths`."""
    setattr(getattr(config, section), key, path)
    entry = ResolvedPath(
        section=section,
        key=key,
        written=str(path),
        path=path,
        how=how,
        made_at_start=(section, key) in _MADE_AT_START,
    )
    others = [e for e in config.resolved_paths if (e.section, e.key) != (section, key)]
    config._resolved_paths = sorted([*others, entry], key=lambda e: (e.section, e.key))


def missing_paths(config: KioskConfig) -> list[ResolvedPath]:
    """The paths the config names that must exist and do not (the experience, secret and
    certificate files); the data folder, log folder and database are made at start."""
    return [e for e in config.resolved_paths if not e.made_at_start and not e.path.exists()]
