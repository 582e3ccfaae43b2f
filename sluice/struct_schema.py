"""A msgspec Struct as a pydantic type: settings fields and admin API bodies validate, serialize
and document a Struct through a pydantic model generated from its fields, so a policy is
written once (as a Struct, which the request path reads) and pydantic never holds a copy.

The model is lax by default (the config's YAML and ``${VAR}`` give "60" for 60); annotate a body
with ``WIRE`` for JSON from a client, which is strict (no "10" for 10, no ``true`` for 1).
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, create_model
from pydantic_core import PydanticUndefined, core_schema

_CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern", "description")


class SchemaStruct(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """A Struct that pydantic can validate (a dict or an instance), dump and describe."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return schema_of(cls, handler, strict=False)


class _Wire:
    """``Annotated[Policy, WIRE]``: the Struct validated strictly, as JSON from a client is."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return schema_of(source, handler, strict=True)


WIRE = _Wire()


def schema_of(
    cls: type[msgspec.Struct], handler: GetCoreSchemaHandler, *, strict: bool
) -> core_schema.CoreSchema:
    """The generated model's schema, then the Struct built from it (its ``__post_init__`` checks
    run there and fail as a value error at the Struct's location); dumped with every field."""
    checked = core_schema.no_info_after_validator_function(
        functools.partial(_struct, cls), handler.generate_schema(model_of(cls, strict=strict))
    )
    return core_schema.no_info_before_validator_function(
        functools.partial(_plain, cls),
        checked,
        serialization=core_schema.plain_serializer_function_ser_schema(dump, when_used="always"),
    )


def dump(value: msgspec.Struct) -> dict[str, Any]:
    """Every field (defaults too), tuples as lists: what a client reads back."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in msgspec.structs.asdict(value).items()}


@functools.cache
def model_of(cls: type[msgspec.Struct], *, strict: bool = False) -> type[BaseModel]:
    """The pydantic model with the Struct's fields, constraints, defaults and descriptions."""
    hints = typing.get_type_hints(cls, include_extras=True)
    info = msgspec.structs.fields(cls)
    fields: dict[str, Any] = {}
    for f in info:
        default: Any = PydanticUndefined
        factory = None
        if f.default is not msgspec.NODEFAULT:
            default = f.default
            if isinstance(default, (tuple, list, dict)) and not default:
                default, factory = PydanticUndefined, (dict if isinstance(default, dict) else list)
        elif f.default_factory is not msgspec.NODEFAULT:
            factory = f.default_factory
        annotation, meta = _pydantic(hints[f.name])
        kw = {k: v for k, v in meta.items() if k != "description"}
        description = meta.get("description")
        if factory is None:
            field = Field(default, description=description, **kw)
        else:
            field = Field(default_factory=factory, description=description, **kw)
        fields[f.name] = (annotation, field)
    config = ConfigDict(extra="forbid", frozen=True, strict=strict)
    model: type[BaseModel] = create_model(cls.__name__, __config__=config, __doc__=cls.__doc__, **fields)
    return model


def _pydantic(annotation: Any) -> tuple[Any, dict[str, Any]]:
    """The annotation as pydantic reads it (msgspec's ``Meta`` as pydantic constraints, tuples as
    lists, which JSON and YAML give) and the outer ``Meta``'s constraints and description."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        inner, meta = _pydantic(args[0])
        for m in args[1:]:
            if isinstance(m, msgspec.Meta):
                meta = {**meta, **{k: getattr(m, k) for k in _CONSTRAINTS if getattr(m, k) is not None}}
        return inner, meta
    if origin in (types.UnionType, typing.Union):
        parts = []
        for a in args:
            inner, meta = _pydantic(a)
            kw = {k: v for k, v in meta.items() if k != "description"}
            parts.append(Annotated[inner, Field(**kw)] if kw else inner)
        return functools.reduce(lambda x, y: x | y, parts), {}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        inner, meta = _pydantic(args[0])
        kw = {k: v for k, v in meta.items() if k != "description"}
        return types.GenericAlias(list, Annotated[inner, Field(**kw)] if kw else inner), {}  # list[...]
    return annotation, {}


def _plain(cls: type[msgspec.Struct], value: Any) -> Any:
    return dump(value) if isinstance(value, cls) else value


def _struct(cls: type[msgspec.Struct], model: BaseModel) -> msgspec.Struct:
    values = dict(model)
    for name in _tuples(cls):
        values[name] = tuple(values[name])
    return cls(**values)


@functools.cache
def _tuples(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(name for name in cls.__struct_fields__ if typing.get_origin(hints[name]) is tuple)
