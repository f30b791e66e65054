"""Cheap stand-ins for the export models, used while a file is being read.

Building pydantic models field by field costs validation on every binder, range
and hash of every declaration. The reader builds these records instead: plain
`dict`s (fields in the models' order, the models' defaults, attribute access,
`model_copy`, `model_dump_json`) that serialize exactly as the models do. A whole
module is validated once at the end (`bridge.lean.reader.read_module`), or not at
all where trusted output goes straight to JSON (`bridge.extract`).

For type checkers the names below are the pydantic models themselves.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any

import pydantic_core

from bridge import models

_MISSING: Any = object()


class Record(dict):  # type: ignore[type-arg]
    """A model's fields as a dict, in the model's order."""

    __slots__ = ()

    def model_copy(self, update: dict[str, Any] | None = None) -> Record:
        """Shallow copy with some fields replaced, like `BaseModel.model_copy`."""
        c = dict.__new__(type(self))
        dict.update(c, self)
        if update:
            c.update(update)
        return c

    def model_dump_json(self) -> str:
        return pydantic_core.to_json(self).decode()


def _record(model: type[models.BaseModel]) -> type[Record]:
    """A `Record` class whose constructor takes the model's fields as keywords."""
    params, items, env = [], [], {"_MISSING": _MISSING, "_dict_init": dict.__init__}
    for name, f in model.model_fields.items():
        if f.is_required():
            params.append(name)
            items.append(f"{name}={name}")
        elif isinstance(f.default, (list, dict)):  # a fresh one per record, as pydantic does
            params.append(f"{name}=_MISSING")
            items.append(f"{name}=({type(f.default).__name__}({name}_d) if {name} is _MISSING else {name})")
            env[f"{name}_d"] = f.default
        else:
            env[f"{name}_d"] = f.default
            params.append(f"{name}={name}_d")
            items.append(f"{name}={name}")
    src = f"def __init__(self, *, {', '.join(params)}):\n    _dict_init(self, {', '.join(items)})\n"
    exec(src, env)  # noqa: S102 - generated from the model's own field list
    ns: dict[str, Any] = {"__slots__": (), "__init__": env["__init__"]}
    # fields as properties (no `__getattr__`: serializers probe records for attributes
    # such as `__pydantic_serializer__`, and a Python-level miss handler is slow)
    for name in model.model_fields:
        ns[name] = property(itemgetter(name), _setter(name))
    return type(model.__name__, (Record,), ns)


def to_plain(value: Any) -> Any:
    """`value` with every record (and every list and dict in it) copied into a plain
    `dict`/`list`. Serializers take exact dicts by their fast path but probe a dict
    subclass for model and dataclass hooks on every record (an AttributeError each):
    `pydantic_core.to_json` of a whole module runs 2-3x faster on plain data."""
    t = type(value)
    if t is list:
        return [to_plain(v) if type(v) in _CONTAINERS else v for v in value]
    if t in _CONTAINERS:  # a record or a dict
        return {k: to_plain(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    return value


def _setter(name: str) -> Any:
    def set_field(self: Record, value: Any) -> None:
        self[name] = value

    return set_field


if TYPE_CHECKING:
    from bridge.models import (
        Binder,
        Constructor,
        Declaration,
        Diagnostic,
        Hashes,
        ModuleDoc,
        ModuleExport,
        OpenDirective,
        OtherCommand,
        Range,
        Scope,
        StructField,
    )
else:
    Binder = _record(models.Binder)
    Constructor = _record(models.Constructor)
    Declaration = _record(models.Declaration)
    Diagnostic = _record(models.Diagnostic)
    Hashes = _record(models.Hashes)
    ModuleDoc = _record(models.ModuleDoc)
    ModuleExport = _record(models.ModuleExport)
    OpenDirective = _record(models.OpenDirective)
    OtherCommand = _record(models.OtherCommand)
    Range = _record(models.Range)
    Scope = _record(models.Scope)
    StructField = _record(models.StructField)

def plain_declaration(d: Any) -> dict[str, Any]:
    """`to_plain` of a declaration, specialised: shallow C-level copies of the records a
    declaration always holds (the generic walk costs about as much as it saves)."""
    out = dict(d)
    out["range"] = dict(d["range"])
    out["hashes"] = dict(d["hashes"])
    if d["binders"]:  # binders hold no records
        out["binders"] = list(map(dict, d["binders"]))
    if d["fields"]:
        out["fields"] = to_plain(d["fields"])
    if d["constructors"]:
        out["constructors"] = to_plain(d["constructors"])
    return out


# the types `to_plain` descends into (list is handled on its own)
_CONTAINERS: frozenset[type] = frozenset({dict, list, *Record.__subclasses__()})
