"""Strict ``{variable}`` templates: literal text, ``{name}`` slots (``name`` an ASCII identifier)
and ``{{`` / ``}}`` for literal braces; anything else with a brace is refused when the version is
created. Rendering inserts values verbatim, never parsed again, so a value cannot add a slot."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sluice.errors import InvalidRequestError
from sluice.store.records import PromptVersion
from sluice.types import Message

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Template:
    """A compiled template: ``parts`` alternates literal text and slot names, text first."""

    __slots__ = ("parts", "slots")

    def __init__(self, parts: tuple[str, ...]) -> None:
        self.parts = parts
        self.slots = frozenset(parts[1::2])

    @classmethod
    def compile(cls, text: str, *, param: str | None = None) -> Template:
        """The template of ``text``; a 400 naming ``param`` for an unbalanced brace, an empty or
        non-identifier slot name, or a format spec (``{x:>3}``, ``{x!r}``, ``{x.y}``, ``{x[0]}``)."""
        parts: list[str] = []
        literal: list[str] = []
        at = 0
        for m in _TOKEN.finditer(text):
            literal.append(text[at : m.start()])
            at = m.end()
            token = m.group()
            if token in ("{{", "}}"):
                literal.append(token[0])
                continue
            name = m.group(1)
            if name is None:
                raise _invalid(
                    f"an unbalanced '{token}' at offset {m.start()} (write '{token * 2}' for a literal brace)",
                    param,
                )
            if _NAME.fullmatch(name) is None:
                raise _invalid(
                    f"'{token}' at offset {m.start()} is not a slot: a slot is '{{name}}' with an identifier"
                    " ([A-Za-z_][A-Za-z0-9_]*), and literal braces are written '{{' and '}}'",
                    param,
                )
            parts += ["".join(literal), name]
            literal = []
        literal.append(text[at:])
        parts.append("".join(literal))
        return cls(tuple(parts))

    def render(self, values: Mapping[str, str]) -> str:
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out += (values[parts[i]], parts[i + 1])
        return "".join(out)


class CompiledPrompt:
    """A version's templates, compiled once (versions are immutable: keep it as long as the version)."""

    __slots__ = ("declared", "roles", "templates", "variables")

    def __init__(self, version: PromptVersion) -> None:
        """400 for a template ``Template.compile`` refuses (``param`` ``messages[i].content``) and for
        declared ``variables`` that are not exactly the slots the templates use (``variables``)."""
        self.templates = tuple(
            Template.compile(m.content, param=f"messages[{i}].content")
            for i, m in enumerate(version.messages)
        )
        self.roles = tuple(m.role for m in version.messages)
        self.declared = tuple(version.variables)
        self.variables = frozenset(version.variables)
        if len(self.variables) != len(version.variables):
            raise InvalidRequestError("`variables` names a variable more than once.", param="variables")
        used = frozenset().union(*(t.slots for t in self.templates))
        if used != self.variables:
            missing, unused = sorted(used - self.variables), sorted(self.variables - used)
            said = [f"used but not declared: {', '.join(missing)}"] if missing else []
            said += [f"declared but not used: {', '.join(unused)}"] if unused else []
            raise InvalidRequestError(
                f"`variables` must list exactly the slots the messages use ({'; '.join(said)}).",
                param="variables",
            )

    def render(self, variables: Mapping[str, object]) -> list[Message]:
        """The messages with every slot filled; a 400 naming ``sluice.prompt.variables.<name>`` for a
        missing or undeclared variable, or a value that is not a string, number or boolean."""
        values: dict[str, str] = {}
        for name, value in variables.items():
            if name not in self.variables:
                raise _variable(name, "is not a variable of this prompt")
            if isinstance(value, str):
                values[name] = value
            elif isinstance(value, bool | int | float):
                values[name] = str(value)
            else:
                raise _variable(name, "must be a string, number or boolean")
        for name in self.declared:  # the first missing one in the declared order
            if name not in values:
                raise _variable(name, "is missing: this prompt needs it")
        return [Message(role, t.render(values)) for role, t in zip(self.roles, self.templates, strict=True)]


def render(version: PromptVersion | CompiledPrompt, variables: Mapping[str, object]) -> list[Message]:
    """``version``'s messages rendered with ``variables`` (see ``CompiledPrompt.render``)."""
    compiled = version if isinstance(version, CompiledPrompt) else CompiledPrompt(version)
    return compiled.render(variables)


def _invalid(what: str, param: str | None) -> InvalidRequestError:
    where = f" in {param}" if param else ""
    return InvalidRequestError(f"Invalid template{where}: {what}.", param=param)


def _variable(name: str, what: str) -> InvalidRequestError:
    param = f"sluice.prompt.variables.{name}"
    return InvalidRequestError(f"The prompt variable `{name}` {what}.", param=param)
