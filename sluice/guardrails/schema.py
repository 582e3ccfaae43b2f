"""Checking a final answer against the JSON schema its request asked for (``response_format``
``json_schema``), with errors at JSON paths, and the messages of the one repair attempt.

The validator is jsonschema-rs (Rust): every keyword of Draft 2020-12 (and of the earlier drafts a
``$schema`` names), ``pattern`` with ECMA-262 semantics (``\\d`` is ``[0-9]``), ``format`` as an
annotation only. It is imported by the first schema compiled. A schema is compiled once per distinct schema (keyed by its canonical JSON, the
most recent ``SchemaCache.size`` kept) when the request arrives, so a schema that cannot be
compiled is a 400 naming ``response_format`` before any upstream call. Hostile schemas are bounded:
nothing is ever fetched (a ``$ref`` outside the schema is a 400), the schema's size and its
patterns' total length are capped (compiling is CPU on the event loop), a pattern's backtracking
is limited (an answer it cannot decide fails with "cannot be checked"), and an answer nested
deeper than ``MAX_ANSWER_DEPTH`` is refused without walking it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import msgspec

from sluice.errors import InvalidRequestError
from sluice.types import Message

if TYPE_CHECKING:
    import jsonschema_rs

PARAM = "response_format.json_schema.schema"
MAX_SCHEMA_BYTES = 256 * 1024
"""The largest schema compiled, as canonical JSON. Compiling costs ~8 ms per 100 KiB (a 500 KiB
schema of 5,000 properties took 42 ms, a 5 MiB one 2.4 s), all of it on the event loop."""
MAX_PATTERN_CHARS = 32 * 1024
"""The total length of a schema's regular expressions (``pattern``, ``patternProperties`` keys)."""
BACKTRACK_LIMIT = 10_000
"""Steps a pattern that needs backtracking (lookaround, backreferences) may take on one string:
at most ~0.3 ms. Other patterns run on a linear-time engine and need no limit."""
MAX_ANSWER_DEPTH = 128
"""How deeply an answer may nest objects and arrays to be checked."""
_DATA = frozenset({"const", "enum", "default", "examples"})
"""Keywords whose values are data, not schemas: no patterns are counted in them."""
_FENCED = re.compile(r"\A\s*```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)\n?[ \t]*```\s*\Z", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LISTED = 20  # errors listed in a repair prompt or a message
_SHOWN = 200  # characters of a library message or a compile error shown


class SchemaError(NamedTuple):
    """Where (``$.items[2].name``) an answer breaks its schema, and how."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


_TOO_DEEP = SchemaError("$", f"nested more than {MAX_ANSWER_DEPTH} levels deep")


class AnswerSchema:
    """One compiled schema: what is wrong with an answer to it."""

    __slots__ = ("_validator", "schema")

    def __init__(self, schema: dict[str, Any], validator: jsonschema_rs.Validator) -> None:
        self.schema = schema
        self._validator = validator

    def check(self, text: str) -> list[SchemaError]:
        """What is wrong with ``text`` (may be fenced) as an answer: empty when it conforms."""
        try:
            value = msgspec.json.decode(strip_fences(text))
        except msgspec.DecodeError as e:
            return [SchemaError("$", f"not valid JSON ({e})")]
        except RecursionError:
            return [_TOO_DEEP]
        # Fewer brackets than the limit cannot nest past it: most answers skip the walk.
        if text.count("{") + text.count("[") > MAX_ANSWER_DEPTH and _deeper_than(value, MAX_ANSWER_DEPTH):
            return [_TOO_DEEP]
        return self._validate(value)

    def validate(self, value: Any) -> list[SchemaError]:
        """Every way ``value`` breaks the schema, in the validator's order (empty when it conforms)."""
        return [_TOO_DEEP] if _deeper_than(value, MAX_ANSWER_DEPTH) else self._validate(value)

    def _validate(self, value: Any) -> list[SchemaError]:
        try:
            if self._validator.is_valid(value):  # the common case, and the fastest call
                return []
            errors = _errors(self._validator.iter_errors(value))
        except ValueError:  # the validator's own recursion limit
            return [SchemaError("$", "nested too deeply to check")]
        # An error listing may stop at a pattern's backtracking limit and miss that one value.
        return errors or [SchemaError("$", "cannot be checked: a pattern needs too many steps")]


class SchemaCache:
    """Compiled schemas by canonical JSON, the ``size`` most recently used kept."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._compiled: OrderedDict[bytes, AnswerSchema] = OrderedDict()

    def compile(self, schema: dict[str, Any]) -> AnswerSchema:
        """The schema compiled, or a 400 naming ``response_format`` saying why it cannot be."""
        key = msgspec.json.encode(schema, order="sorted")
        found = self._compiled.get(key)
        if found is not None:
            self._compiled.move_to_end(key)
            return found
        compiled = compile_schema(schema, size=len(key))
        self._compiled[key] = compiled
        if len(self._compiled) > self.size:
            self._compiled.popitem(last=False)
        return compiled


def compile_schema(schema: dict[str, Any], *, size: int | None = None) -> AnswerSchema:
    """``schema`` compiled (uncached; ``size``: its canonical JSON's length, if known)."""
    if size is None:
        size = len(msgspec.json.encode(schema))
    if size > MAX_SCHEMA_BYTES:
        raise _invalid(f"it is {size} bytes long; at most {MAX_SCHEMA_BYTES} are checked")
    if _pattern_chars(schema) > MAX_PATTERN_CHARS:
        raise _invalid(f"its patterns are longer than {MAX_PATTERN_CHARS} characters in all")
    import jsonschema_rs  # ~10 MiB and ~20 ms: loaded by the first schema, not at startup

    try:
        validator = jsonschema_rs.validator_for(
            schema,
            offline=True,  # a $ref to a URL or a file is never fetched
            pattern_options=jsonschema_rs.FancyRegexOptions(backtrack_limit=BACKTRACK_LIMIT),
        )
    except jsonschema_rs.ValidationError as e:
        where = "/".join(map(str, e.instance_path))
        raise _invalid(_cut(e.message.splitlines()[0]) + (f" (at /{where})" if where else "")) from None
    except (jsonschema_rs.ReferencingError, ValueError, TypeError, OverflowError) as e:
        raise _invalid(_cut(str(e).splitlines()[0] if str(e) else type(e).__name__)) from None
    return AnswerSchema(schema, validator)


def strip_fences(text: str) -> str:
    """``text`` without the Markdown code fence (```` ```json ````) models like to wrap JSON in."""
    m = _FENCED.match(text)
    return m[1] if m else text


def summary(errors: Sequence[SchemaError]) -> str:
    """The errors one per line, at most twenty of them."""
    lines = [f"- {e}" for e in errors[:_LISTED]]
    if len(errors) > _LISTED:
        lines.append(f"- and {len(errors) - _LISTED} more")
    return "\n".join(lines)


def repair_prompt(schema: dict[str, Any], bad_text: str, errors: Sequence[SchemaError]) -> list[Message]:
    """The messages of the one repair attempt, to append to the request's own messages (sent again
    with the same ``response_format``): the answer that failed, then what is wrong with it."""
    pretty = msgspec.json.format(msgspec.json.encode(schema), indent=2).decode()
    return [
        Message(role="assistant", content=bad_text),
        Message(
            role="user",
            content=(
                "Your previous answer does not match the required JSON schema:\n"
                f"{summary(errors)}\n\nThe schema:\n{pretty}\n\n"
                "Reply again with only the corrected JSON value: no explanation and no code fences."
            ),
        ),
    ]


# --- bounds -------------------------------------------------------------------------------------


def _invalid(why: str) -> InvalidRequestError:
    # Neutral words: on the Anthropic surface the schema is ``output_config.format.schema``.
    return InvalidRequestError(f"The response schema cannot be used to check answers: {why}.", param=PARAM)


def _pattern_chars(schema: Any) -> int:
    """The total length of the regular expressions in ``schema``."""
    total, stack = 0, [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    total += len(value)
                elif key == "patternProperties" and isinstance(value, dict):
                    total += sum(map(len, value))
                if key not in _DATA:
                    stack.append(value)
    return total


def _deeper_than(value: Any, limit: int) -> bool:
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        for c in v.values() if isinstance(v, dict) else v:
            if isinstance(c, dict | list):
                if depth >= limit:
                    return True
                stack.append((c, depth + 1))
    return False


# --- the library's errors as ours ---------------------------------------------------------------


def _errors(found: Iterable[jsonschema_rs.ValidationError]) -> list[SchemaError]:
    from jsonschema_rs import ValidationErrorKind as Kind

    out: list[SchemaError] = []
    for e in found:
        path = _path(e.instance_path)
        match e.kind:
            case Kind.Required(property=name):
                out.append(SchemaError(_key_path(path, name), "is required"))
            case Kind.AdditionalProperties(unexpected=keys) | Kind.UnevaluatedProperties(unexpected=keys):
                out.extend(SchemaError(_key_path(path, k), "is not an allowed property") for k in keys)
            case Kind.UnevaluatedItems(unexpected=indexes):
                out.extend(SchemaError(f"{path}[{i}]", "is not an allowed item") for i in indexes)
            case _:
                out.append(SchemaError(path, _message(e)))
    return out


def _message(e: jsonschema_rs.ValidationError) -> str:
    from jsonschema_rs import ValidationErrorKind as Kind

    value = e.instance
    match e.kind:
        case Kind.Type(types=types):
            return f"expected {' or '.join(types)}, got {_type_name(value)}"
        case Kind.Constant(expected_value=expected):
            return f"must be {_show(expected)}"
        case Kind.Enum(options=options):
            return f"must be one of {', '.join(map(_show, options))}"
        case Kind.AnyOf(context=branches) | Kind.OneOfNotValid(context=branches):
            keyword = "anyOf" if isinstance(e.kind, Kind.AnyOf) else "oneOf"
            firsts = [str(_errors(b)[0]) for b in branches if b]
            return f"matches none of the {len(branches)} {keyword} schemas ({'; '.join(firsts)})"
        case Kind.OneOfMultipleValid():
            return "matches more than one of the oneOf schemas"
        case Kind.MinItems(limit=n):  # minItems and maxItems fail only on an array
            return f"has {len(cast('list[object]', value))} items, fewer than {n}"
        case Kind.MaxItems(limit=n):
            return f"has {len(cast('list[object]', value))} items, more than {n}"
        case Kind.MinLength(limit=n):
            return f"is shorter than {n} characters"
        case Kind.MaxLength(limit=n):
            return f"is longer than {n} characters"
        case Kind.Minimum(limit=n):
            return f"must be at least {n}"
        case Kind.Maximum(limit=n):
            return f"must be at most {n}"
        case Kind.ExclusiveMinimum(limit=n):
            return f"must be more than {n}"
        case Kind.ExclusiveMaximum(limit=n):
            return f"must be less than {n}"
        case Kind.MultipleOf(multiple_of=n):
            return f"must be a multiple of {n}"
        case Kind.Pattern(pattern=pattern):
            return f"does not match the pattern {_cut(repr(pattern))}"
        case Kind.BacktrackLimitExceeded() | Kind.RegexEngineFailure():
            return "cannot be checked: its pattern needs too many steps on this value"
        case Kind.FalseSchema():
            return "is not allowed here"
    return _cut(e.message)


def _path(parts: Iterable[str | int]) -> str:
    path = "$"
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _key_path(path, part)
    return path


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _NAME.fullmatch(key) else f"{path}[{msgspec.json.encode(key).decode()}]"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _cut(text: str) -> str:
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
