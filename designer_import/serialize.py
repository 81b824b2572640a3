"""The model <-> JSON, for a bundle's ``manifest.json``.

Dataclasses become objects with their field names; links carry a ``"type"`` tag
(``navigate``, ``actions``, ``external``, ``rejected``); image bytes are not written here
(``ImageRef.asset`` names the file in ``assets/``), paths become strings.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

from designer_import.errors import DrawioError
from designer_import.model import (
    ActionLink,
    Experience,
    ExternalLink,
    FontFile,
    ImageRef,
    NavigateLink,
    RejectedLink,
    Style,
)

_LINK_TAGS: dict[type, str] = {
    NavigateLink: "navigate",
    ActionLink: "actions",
    ExternalLink: "external",
    RejectedLink: "rejected",
}
_LINK_TYPES = {tag: cls for cls, tag in _LINK_TAGS.items()}
#: ImageRef and FontFile fields never written to JSON (bytes in assets/, the path is local).
_IMAGE_SKIP = frozenset({"data", "path"})
#: What a data URI in ``Style.values`` becomes in JSON.
_DATA_MARKER = "data:,(embedded; see the element's image)"


#: What ``json`` reads and writes.
JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None


def to_json(value: object) -> JsonValue:
    """A JSON-ready form of a model value; TypeError for a value the model does not hold."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, JsonValue] = {}
        tag = _LINK_TAGS.get(type(value))
        if tag is not None:
            out["type"] = tag
        skip = _IMAGE_SKIP if isinstance(value, ImageRef | FontFile) else ()
        for f in dataclasses.fields(value):
            if f.name not in skip:
                out[f.name] = to_json(getattr(value, f.name))
        if isinstance(value, Style):
            # Embedded pictures live in assets/ (ImageRef.asset); not again in every style.
            out["values"] = {
                k: (_DATA_MARKER if v.startswith("data:") else v) for k, v in value.values.items()
            }
        return out
    if isinstance(value, Enum):
        member_value: str = value.value  # the model's enums are str-valued
        return member_value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return None
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"no JSON form for {type(value).__name__}")


def experience_from_json(data: JsonValue) -> Experience:
    """Rebuild an ``Experience`` from ``to_json`` output; ``DrawioError`` when malformed."""
    try:
        result = _decode(Experience, data)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DrawioError(f"the bundle's model is malformed ({exc})") from None
    assert isinstance(result, Experience)
    return result


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(kind: Any, value: JsonValue) -> object:
    """``value`` (JSON) as the model type ``kind``; TypeError or ValueError when it does
    not fit."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin is types.UnionType or origin is typing.Union:
        arms = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(arms) == 1:
            return _decode(arms[0], value)
        tag = value.get("type") if isinstance(value, dict) else None
        if tag not in _LINK_TYPES:
            raise ValueError(f"unknown link type {tag!r}")
        return _decode(_LINK_TYPES[tag], value)
    if origin in (list, tuple, dict):
        return _decode_collection(origin, typing.get_args(kind), value)
    if origin is typing.Literal:
        if value not in typing.get_args(kind):
            raise ValueError(f"{value!r} is not one of {typing.get_args(kind)}")
        return value
    return _decode_class(kind, value)


def _decode_collection(origin: type, args: tuple[Any, ...], value: JsonValue) -> object:
    """``value`` as a ``list[item]``, a fixed ``tuple[...]`` (a JSON list) or a
    ``dict[str, item]``."""
    if origin is list:
        (item,) = args
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return [_decode(item, v) for v in value]
    if origin is tuple:
        if not isinstance(value, list) or len(value) != len(args):
            raise TypeError(f"expected a list of {len(args)}, got {value!r}")
        return tuple(_decode(item, v) for item, v in zip(args, value, strict=True))
    _key, item = args
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return {str(k): _decode(item, v) for k, v in value.items()}


def _decode_class(kind: Any, value: JsonValue) -> object:
    """``value`` as a plain class: a model dataclass, an enum, a path or a scalar."""
    if not isinstance(kind, type):
        raise TypeError(f"cannot decode {kind!r}")
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {kind.__name__}")
        hints = _hints(kind)
        args = {
            f.name: _decode(hints[f.name], value[f.name])
            for f in dataclasses.fields(kind)
            if f.name in value and f.init
        }
        return kind(**args)
    if issubclass(kind, Enum):
        return kind(value)
    if kind is Path:
        if not isinstance(value, str):
            raise TypeError(f"expected a path, got {value!r}")
        return Path(value)
    return _decode_scalar(kind, value)


def _decode_scalar(kind: type, value: JsonValue) -> object:
    """``value`` as a float (any JSON number), bool, str or int, each checked; bytes are
    not in JSON (None: the bundle's assets hold them)."""
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {value!r}")
        return float(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true/false, got {value!r}")
        return value
    if kind in (str, int):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TypeError(f"expected {kind.__name__}, got {value!r}")
        return value
    if kind is bytes:
        return None
    raise TypeError(f"cannot decode {kind!r}")
