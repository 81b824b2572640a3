"""The files the kiosk ships with: the default config, the demo experience and the published
JSON schemas. Every caller finds them here and nowhere else.

In the repository they live in ``resources/``; an install (a wheel, or the editable install
``scripts/bootstrap`` makes) carries that folder as the package ``kiosk_resources``
(``[tool.setuptools.package-dir]`` in pyproject.toml), so ``importlib.resources`` finds the same
files wherever the kiosk is installed, never by a path relative to a source file.

A config file can name a shipped file with the ``builtin:`` scheme (``experience =
"builtin:demo/pet-store.drawio"``): that works unchanged from a copy of the defaults in any
folder, where a relative path would be taken from the copy's folder.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

#: The package the resources/ folder is installed as.
RESOURCE_PACKAGE = "kiosk_resources"
#: A path value ``builtin:NAME`` names the shipped file NAME (``demo/pet-store.drawio``).
BUILTIN_SCHEME = "builtin:"
#: The default config, spelled out with comments for staff.
DEFAULT_CONFIG_NAME = "kiosk.toml"
#: The folder of the published JSON schemas (event, uplink batch, status).
SCHEMA_FOLDER = "schema"


class ResourceError(LookupError):
    """A shipped file cannot be found; ``str()`` is one line naming it and what to do."""


def resource_root() -> Path:
    """The folder holding the shipped files, as a real path on disk.

    Raises :class:`ResourceError` when the package is not installed or is not on disk (a
    zipped install, which the kiosk does not support: Qt and the designer importer open
    files by path).
    """
    try:
        root = importlib.resources.files(RESOURCE_PACKAGE)
    except ModuleNotFoundError:
        raise ResourceError(
            f"the kiosk's resources ({RESOURCE_PACKAGE}) are not installed: "
            "install the kiosk (scripts/bootstrap) or reinstall its wheel"
        ) from None
    if not isinstance(root, Path):
        raise ResourceError(
            f"the kiosk's resources ({RESOURCE_PACKAGE}) are inside {root}, not a folder on "
            "disk: install the kiosk unzipped"
        )
    return root


def resource_files(*parts: str) -> Traversable:
    """A shipped file or folder for reading (``resource_files("schema", "event-v1.json")``)."""
    node: Traversable = resource_root()
    for part in parts:
        node = node / part
    return node


def resource_path(name: str) -> Path:
    """The path on disk of the shipped file ``name`` (``demo/pet-store.drawio``).

    Raises :class:`ResourceError` for a name that leaves the resources or names nothing.
    """
    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise ResourceError(f"{BUILTIN_SCHEME}{name}: not the name of a shipped file")
    path = resource_root().joinpath(*relative.parts)
    if not path.exists():
        raise ResourceError(
            f"{BUILTIN_SCHEME}{name}: no such shipped file; shipped: {', '.join(builtin_names())}"
        )
    return path


def builtin_names() -> list[str]:
    """Every shipped file a config may name as ``builtin:NAME``, sorted (no Python sources)."""
    root = resource_root()
    return sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    )


def builtin_name(value: Path | str) -> str | None:
    """NAME when ``value`` is written ``builtin:NAME``, else None."""
    text = str(value)
    if text.startswith(BUILTIN_SCHEME):
        return text[len(BUILTIN_SCHEME) :]
    return None


def default_config_path() -> Path:
    """The default config file (``resources/kiosk.toml``)."""
    return resource_path(DEFAULT_CONFIG_NAME)


def schema_files() -> Traversable:
    """The folder of the published JSON schemas (``resources/schema``)."""
    return resource_files(SCHEMA_FOLDER)
