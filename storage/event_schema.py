"""The published JSON schemas, and the event schema compiled into a check fast enough for
``EventLog.append``.

``resources/schema/`` is the one source of truth for what an event and an uplink message
are: analysts read it, the receiver validates with it, and the kiosk refuses an event that
breaks it where the event is made. :func:`schema_files` is the only place that knows where
those files live.

A general JSON Schema validator costs about 400 us per event here, a thousand times what
``append`` may cost. :class:`EventCheck` therefore turns the keywords the event schema uses
(``type``, ``const``, ``enum``, ``pattern``, ``minLength``, ``maxLength``, ``minimum``,
``maximum``, ``properties``, ``required``, ``additionalProperties``, ``anyOf``) into one
Python function, generated from the file, that answers yes or no in about a microsecond; a
schema using any other keyword is refused when the check is built, so the check can never
silently skip a rule. Only when the answer is no does ``jsonschema`` run, to say precisely
which field is wrong. A test holds the two to the same answers.
"""

from __future__ import annotations

import builtins
import json
import re
import textwrap
from collections.abc import Callable, Mapping
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any

import orjson

from settings.resources import schema_files as shipped_schema_files
from storage.event import SCHEMA_VERSION, Event, EventRejected, JsonObject, JsonValue

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

#: The file names of the published schemas (in :func:`schema_files`).
EVENT_SCHEMA = "event-v1.json"
BATCH_SCHEMA = "batch-v1.json"
STATUS_SCHEMA = "status-v1.json"

_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples"})
_COMPILED = frozenset(
    {
        "type",
        "const",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "properties",
        "required",
        "additionalProperties",
        "anyOf",
    }
)
_BUILTINS = ("isinstance", "len", "type", "bool", "int", "float", "str", "dict", "list")
_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    # jsonschema's own rules: a bool is not a number; 3.0 is an integer
    "integer": "(type({v}) is int or (not isinstance({v}, bool) and (isinstance({v}, int) or "
    "(isinstance({v}, float) and {v}.is_integer()))))",
    "number": "(not isinstance({v}, bool) and isinstance({v}, (int, float)))",
}


def schema_files() -> Traversable:
    """The folder holding the published JSON schemas (``resources/schema``, installed as
    package data: settings.resources)."""
    return shipped_schema_files()


def load_schema(name: str) -> dict[str, Any]:
    """One published schema (``event-v1.json``, ``batch-v1.json``, ``status-v1.json``)."""
    schema: dict[str, Any] = json.loads((schema_files() / name).read_text(encoding="utf-8"))
    return schema


class _Compiler:
    """Writes one Python function per object schema; constants go into its namespace."""

    def __init__(self) -> None:
        self.namespace: dict[str, object] = {"_MISSING": object()}
        self.functions: list[str] = []

    def constant(self, value: object) -> str:
        """The name of ``value`` in the generated code's namespace."""
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def expression(self, schema: JsonValue, v: str, where: str) -> str:
        """A Python expression over the variable ``v``, true when it matches ``schema``."""
        if schema is True or schema == {}:
            return "True"
        if schema is False:
            return "False"
        if not isinstance(schema, dict):
            raise ValueError(f"{where}: a schema must be an object or a boolean")
        unknown = schema.keys() - _COMPILED - _ANNOTATIONS
        if unknown:
            raise ValueError(f"{where}: keyword(s) {', '.join(sorted(unknown))} not supported")
        listed = _listed_types(schema, where)
        parts = self._value_tests(schema, v, known_string=listed == ["string"])
        strings = self._string_rules(schema, v, where)
        numbers = self._number_rules(schema, v)
        if listed:
            parts.insert(0, _typed(listed, v, strings, numbers))
        else:
            parts += _untyped(v, strings, numbers)
        if schema.keys() & {"properties", "required", "additionalProperties"}:
            parts.append(f"{self._object(schema, where)}({v})")
        if "anyOf" in schema:
            options = [
                self.expression(sub, v, f"{where}/anyOf/{i}")
                for i, sub in enumerate(_array(schema["anyOf"], f"{where}/anyOf"))
            ]
            parts.append("(" + " or ".join(options) + ")")
        return " and ".join(parts) or "True"

    def _value_tests(self, schema: JsonObject, v: str, *, known_string: bool) -> list[str]:
        """``const`` and ``enum``."""
        parts = []
        if "const" in schema:
            parts.append(self._among([schema["const"]], v, known_string))
        if "enum" in schema:
            parts.append(self._among(_array(schema["enum"], "enum"), v, known_string))
        return parts

    def _string_rules(self, schema: JsonObject, v: str, where: str) -> list[str]:
        """``pattern``, ``minLength``, ``maxLength``: what a string must meet."""
        strings = []
        if "pattern" in schema:
            pattern = schema["pattern"]
            if not isinstance(pattern, str):
                raise ValueError(f"{where}: pattern must be a string")
            strings.append(f"{self.constant(re.compile(pattern))}.search({v})")
        if "minLength" in schema:
            strings.append(f"len({v}) >= {int(_number(schema['minLength'], where))}")
        if "maxLength" in schema:
            strings.append(f"len({v}) <= {int(_number(schema['maxLength'], where))}")
        return strings

    def _number_rules(self, schema: JsonObject, v: str) -> list[str]:
        """``minimum`` and ``maximum``: what a number must meet."""
        numbers = []
        if "minimum" in schema:
            numbers.append(f"{v} >= {self.constant(schema['minimum'])}")
        if "maximum" in schema:
            numbers.append(f"{v} <= {self.constant(schema['maximum'])}")
        return numbers

    def _among(self, values: list[JsonValue], v: str, known_string: bool) -> str:
        # JSON equality: true is not 1, 1 is 1.0 (Python's == alone says True == 1)
        if all(isinstance(value, str) for value in values):
            if known_string:
                return f"{v} in {self.constant(frozenset(values))}"
            return f"(isinstance({v}, str) and {v} in {self.constant(frozenset(values))})"
        tests = []
        for value in values:
            if isinstance(value, bool) or value is None:
                tests.append(f"{v} is {value!r}")
            elif isinstance(value, int | float):
                number = _TYPE_TESTS["number"].format(v=v)
                tests.append(f"({number} and {v} == {value!r})")
            elif isinstance(value, str):
                tests.append(f"(isinstance({v}, str) and {v} == {value!r})")
            else:
                raise ValueError(f"const/enum value {value!r} not supported")
        return "(" + " or ".join(tests) + ")"

    def _object(self, schema: JsonObject, where: str) -> str:
        name = f"_object{len(self.functions)}"
        self.functions.append("")  # reserve the name before nested objects take theirs
        index = len(self.functions) - 1
        properties = schema.get("properties", {})
        if not isinstance(properties, dict):
            raise ValueError(f"{where}: properties must be an object")
        lines = [f"def {name}(d):", "    if not isinstance(d, dict):", "        return True"]
        required = [str(key) for key in _array(schema.get("required", []), f"{where}/required")]
        extra = schema.get("additionalProperties", True)
        if extra not in (True, False):
            raise ValueError(f"{where}: only a boolean additionalProperties is supported")
        if extra is False and set(required) == set(properties):
            # every property required and no other: one comparison
            lines += [
                f"    if d.keys() != {self.constant(frozenset(required))}:",
                "        return False",
            ]
        else:
            if required:
                lines += [
                    f"    if not {self.constant(frozenset(required))} <= d.keys():",
                    "        return False",
                ]
            if extra is False:
                lines += [
                    f"    if not d.keys() <= {self.constant(frozenset(properties))}:",
                    "        return False",
                ]
        for key, sub in properties.items():
            test = self.expression(sub, "x", f"{where}/properties/{key}")
            if test == "True":
                continue
            fetch = (
                f"    x = d[{key!r}]" if key in required else f"    x = d.get({key!r}, _MISSING)"
            )
            lines.append(fetch)
            skip = "" if key in required else "x is not _MISSING and "
            lines += [f"    if {skip}not ({test}):", "        return False"]
        lines.append("    return True")
        self.functions[index] = "\n".join(lines)
        return name

    def build(self, schema: Mapping[str, Any]) -> Callable[[object], bool]:
        """The check of ``schema``: one generated function."""
        top = self.expression(dict(schema), "d", "(schema)")
        body = "\n\n".join([*self.functions, f"def _check(d):\n    return bool({top})"])
        # constants and builtins reach the functions as closure variables, which Python
        # reads faster than globals
        names = [*self.namespace, *_BUILTINS]
        source = (
            f"def _make({', '.join(names)}):\n"
            + textwrap.indent(body, "    ")
            + "\n    return _check\n"
        )
        scope: dict[str, Callable[..., Callable[[object], bool]]] = {}
        exec(compile(source, "<event schema check>", "exec"), scope)
        values = [*self.namespace.values(), *(getattr(builtins, n) for n in _BUILTINS)]
        check = scope["_make"](*values)
        return check


def _array(value: JsonValue, where: str) -> list[JsonValue]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be an array")
    return value


def _number(value: JsonValue, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {value!r} is not a number")
    return value


def _listed_types(schema: JsonObject, where: str) -> list[str]:
    """The schema's ``type``, as a list (empty when it names none)."""
    if "type" not in schema:
        return []
    listed = schema["type"]
    kinds = listed if isinstance(listed, list) else [listed]
    for kind in kinds:
        if not isinstance(kind, str) or kind not in _TYPE_TESTS:
            raise ValueError(f"{where}: type {kind!r} not supported")
    return [str(kind) for kind in kinds]


def _typed(listed: list[str], v: str, strings: list[str], numbers: list[str]) -> str:
    """One branch per listed type, each with the rules of its kind of value (a string rule
    holds for any value that is not a string, and so on)."""
    branches = []
    for kind in sorted(listed, key=lambda k: k != "null"):  # the cheap test first
        rules = strings if kind == "string" else []
        rules = numbers if kind in ("integer", "number") else rules
        branches.append(" and ".join([_TYPE_TESTS[kind].format(v=v), *rules]))
    return "(" + " or ".join(f"({b})" for b in branches) + ")"


def _untyped(v: str, strings: list[str], numbers: list[str]) -> list[str]:
    """Without a type: the string rules hold for strings only, the number rules for
    numbers only."""
    parts = []
    if strings:
        parts.append(f"(not isinstance({v}, str) or ({' and '.join(strings)}))")
    if numbers:
        is_number = _TYPE_TESTS["number"].format(v=v)
        parts.append(f"(not {is_number} or ({' and '.join(numbers)}))")
    return parts


def compile_schema(schema: Mapping[str, Any]) -> Callable[[object], bool]:
    """A function answering whether a JSON value matches ``schema`` (the subset of JSON
    Schema listed in this module's docstring; ``ValueError`` for anything else)."""
    return _Compiler().build(schema)


def _where(error: ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{path or '(top)'}: {error.message}"


class EventCheck:
    """Checks an event against the published event schema, as it will be stored.

    ``check(event, store_id, kiosk_id, payload_max)`` raises :class:`EventRejected` with one
    line naming the event, the field and the rule (the store/kiosk ids the log fills in
    count as filled). An event made by ``Event.create`` was checked whole there and is
    frozen but for its payload's contents, so only the payload is checked again.
    """

    def __init__(self, schema: dict[str, Any] | None = None) -> None:
        self.schema = schema if schema is not None else load_schema(EVENT_SCHEMA)
        self._fast = compile_schema(self.schema)
        self._payload_fast = compile_schema(self.schema.get("properties", {}).get("payload", {}))
        #: jsonschema's validator, built when an event fails the compiled check: only its
        #: explanation needs it, and importing jsonschema costs the kiosk's start ~0.1 s
        self._full: Validator | None = None

    def __call__(self, event: Event, store_id: str, kiosk_id: str, payload_max: int) -> None:
        """Nothing, or :class:`EventRejected`."""
        if event.__class__ is Event and event.checked:
            if not self._payload_fast(event.payload):
                raise EventRejected(self.explain(self.as_stored(event, store_id, kiosk_id)))
            return
        data = self.as_stored(event, store_id, kiosk_id)
        if not self._fast(data):
            raise EventRejected(self.explain(data))
        try:
            size = len(orjson.dumps(data["payload"]))
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise EventRejected(
                f"{data['type']} event {data['id']}: payload is not JSON: {exc}"
            ) from None
        if size > payload_max:
            raise EventRejected(
                f"{data['type']} event {data['id']}: payload is {size} bytes of JSON, the "
                f"limit is {payload_max} ([storage] payload_max_bytes)"
            )

    def check_new(self, event: Event) -> None:
        """``Event.create``'s check: the whole event (empty store/kiosk ids stand for the
        config's, which the config itself keeps valid); :class:`EventRejected` otherwise."""
        data = self.as_stored(event, "-", "-")
        if not self._fast(data):
            raise EventRejected(self.explain(data))

    @staticmethod
    def as_stored(event: Event, store_id: str, kiosk_id: str) -> dict[str, Any]:
        """The schema v1 dict the log will store for ``event`` (ids filled in, flags as
        booleans); :class:`EventRejected` for an object that is not an event."""
        try:
            return {
                "v": SCHEMA_VERSION,
                "id": event.id,
                "ts": event.ts,
                "mono_ns": event.mono_ns,
                "clock_synced": bool(event.clock_synced),
                "store_id": event.store_id or store_id,
                "kiosk_id": event.kiosk_id or kiosk_id,
                "session_id": event.session_id,
                "type": event.type,
                "page": event.page,
                "element": event.element,
                "payload": event.payload,
                "simulated": bool(event.simulated),
            }
        except AttributeError as exc:
            raise EventRejected(f"not an event ({type(event).__name__}): {exc}") from None

    def explain(self, data: object) -> str:
        """Why ``data`` fails the schema, in one line (the slow validator's best match)."""
        from jsonschema.exceptions import best_match

        if self._full is None:
            from jsonschema.validators import validator_for

            self._full = validator_for(self.schema)(self.schema)
        error = best_match(self._full.iter_errors(data))
        if error is None:  # the compiled check and jsonschema disagree: name both
            return f"event {data!r:.200} fails the compiled check of {EVENT_SCHEMA} only"
        name = data.get("type") if isinstance(data, dict) else None
        ident = data.get("id") if isinstance(data, dict) else None
        return f"{name!s:.64} event {ident!s:.64} does not match {EVENT_SCHEMA}: {_where(error)}"
