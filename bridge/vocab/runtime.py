"""Run-time support for generated code: pattern matching on Python values, structures, pairs,
exact/float comparison, and loading sibling generated modules by path.

Values follow docs/ARCHITECTURE.md §3. Pattern matching dispatches on the Python value, so the
translator needs no types: `.nil`/`.cons` match lists (TList, List), `.scalar`/`.dim` match a
shape (tuple) or a tensor (array), `0`/`n + 1`/`.succ` match `int`s.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import sys
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bridge.vocab.domains import Domain, Float64Domain, FractionDomain

__all__ = ["Fraction", "partial"]

EXACT = FractionDomain()
FLOAT64 = Float64Domain()


class NoMatch(Exception):
    def __init__(self, decl: str, line: int) -> None:
        super().__init__(f"no equation of {decl} (term line {line}) matches")


class NotEvaluable(Exception):
    """The translated code cannot compute this value faithfully (it would need type elaboration
    or function extensionality); generated tests skip with the reason instead of guessing."""


class Undetermined(NotEvaluable):
    """A definition pattern-matches on an implicit argument that its caller did not give and
    that no explicit argument determines (Lean infers it from types, which the bridge does not
    elaborate): its value cannot be computed here."""

    def __init__(self, decl: str, implicit: str) -> None:
        super().__init__(f"{decl} needs its implicit argument `{implicit}`, which Lean infers from types "
                         f"and no explicit argument determines; give it by name, e.g. `({implicit} := …)`")


@dataclasses.dataclass(frozen=True)
class Ctor:
    """A value built by a constructor of an inductive type outside the vocabulary."""

    name: str
    args: tuple[Any, ...] = ()


def ctor(name: str, *args: Any) -> Ctor:
    return Ctor(name, tuple(args))


def _is_tensor(v: Any) -> bool:
    return isinstance(v, np.ndarray) or hasattr(v, "dim")


def match_ctor(v: Any, name: str, n: int) -> tuple[Any, ...] | None:
    """The `n` explicit fields of `v` if it was built by constructor `name`, else None.
    `None` (an implicit argument the caller did not give) matches anything."""
    if v is None:
        return (None,) * n
    if isinstance(v, Ctor):
        if v.name.split(".")[-1] != name:
            return None
        return v.args[len(v.args) - n:] if n else ()
    if isinstance(v, bool):
        return () if (name == "true") == v and name in ("true", "false") else None
    if isinstance(v, int):
        if name == "zero":
            return () if v == 0 else None
        if name == "succ":
            return (v - 1,) if v > 0 else None
        return None
    if isinstance(v, tuple):  # a Shape
        if name == "scalar":
            return () if v == () else None
        if name == "dim":
            return (v[0], v[1:]) if v else None
        if name == "nil":
            return () if not v else None
        if name == "cons":
            return (v[0], v[1:]) if v else None
        return None
    if isinstance(v, list):  # TList or List
        if name == "nil":
            return () if not v else None
        if name == "cons":
            return (v[0], v[1:]) if v else None
        return None
    if _is_tensor(v):
        nd = v.ndim if isinstance(v, np.ndarray) else v.dim()
        if name == "scalar":
            return (v[()] if isinstance(v, np.ndarray) else v.reshape(()),) if nd == 0 else None
        if name == "dim":
            return ((lambda i: v[int(i)]),) if nd > 0 else None
    return None


def ctor_named(v: Any, name: str, arg: str) -> Any:
    """A named constructor argument in a pattern (`.cons (s := s) t ts`): only shapes are known."""
    if isinstance(v, list) and name == "cons" and v and arg in ("s", "τ"):
        return tuple(int(n) for n in np.shape(v[0])) if isinstance(v[0], np.ndarray) else tuple(v[0].shape)
    return None


def match_list(v: Any, n: int) -> tuple[Any, ...] | None:
    if v is None:
        return (None,) * n
    return tuple(v) if isinstance(v, (list, tuple)) and len(v) == n else None


def match_anon(v: Any, n: int) -> tuple[Any, ...] | None:
    """`⟨a, b, c⟩` / `(a, b, c)` against a right-nested pair, a `Fin` (an int) or a structure."""
    if v is None:
        return (None,) * n
    if isinstance(v, int) and not isinstance(v, bool):
        return (v,) + (None,) * (n - 1)  # ⟨value, proof⟩
    if dataclasses.is_dataclass(v):
        vals = [getattr(v, f.name) for f in dataclasses.fields(v)]
        return tuple(vals) if len(vals) == n else None
    out: list[Any] = []
    cur = v
    for _ in range(n - 1):
        if not (isinstance(cur, tuple) and len(cur) == 2):
            return None
        out.append(cur[0])
        cur = cur[1]
    out.append(cur)
    return tuple(out)


def nat_ge(v: Any, k: int) -> bool:
    return v is None or (isinstance(v, int) and v >= k)


def nat_sub(v: Any, k: int) -> Any:
    return None if v is None else v - k


def proj(v: Any, k: int) -> Any:
    """`.1` / `.2` of a pair; `.k` of a structure is its k-th field."""
    if dataclasses.is_dataclass(v):
        return getattr(v, dataclasses.fields(v)[k - 1].name)
    return v[k - 1]


def field(v: Any, name: str) -> Any:
    """Field access; `toParent` of an `extends` structure builds the parent from the flat fields."""
    if dataclasses.is_dataclass(v) and not hasattr(v, name):
        parents = getattr(type(v), "__lean_parents__", {})
        if name in parents:
            return to_parent(v, parents[name]())
    if not dataclasses.is_dataclass(v):
        # `xs.foldl` on a list, tensor or number: generalized field notation whose receiver type
        # the resolver did not know, so no translated function was chosen. Python's own attributes
        # are never Lean's (`xs.reverse` would be list.reverse, `xs.append` would mutate)
        raise NotEvaluable(f"`.{name}` on a {type(v).__name__} value: field notation on a value of "
                           "unknown Lean type, not translated")
    return getattr(v, name)


def to_parent(v: Any, cls: type) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: getattr(v, k) for k in names})


def replace(obj: Any, /, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)


def make(cls: type, defaults: dict[str, Any], /, **fields: Any) -> Any:
    """A structure instance: the defaults, then `toParent := p` spread into the flat fields,
    then the given fields."""
    values = dict(defaults)
    own = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for k, v in fields.items():
        if k not in own and dataclasses.is_dataclass(v):
            values.update({f.name: getattr(v, f.name) for f in dataclasses.fields(v)})
        else:
            values[k] = v
    return cls(**values)


def nat_div(a: Any, b: Any) -> Any:
    """Lean's `Nat` division: rounds down, and `n / 0 = 0`."""
    return 0 if b == 0 else a // b


def npow(a: Any, n: Any) -> Any:
    return a**n


def compose(f: Callable[[Any], Any], g: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *xs: f(g(*xs))


def as_scalar(D: Domain, x: Any) -> Any:
    return D.scalar(x) if isinstance(x, (int, Fraction)) and not isinstance(x, bool) else x


def shape_of(D: Domain, t: Any) -> tuple[int, ...] | None:
    return None if t is None else D.shape_of(t)


def shapes_of(D: Domain, xs: Any) -> list[tuple[int, ...]] | None:
    return None if xs is None else [D.shape_of(x) for x in xs]


# -- comparison -----------------------------------------------------------------------------
def equal(a: Any, b: Any) -> bool:
    """Structural equality of Lean values (arrays entrywise, structures fieldwise)."""
    if a is not b and any(callable(x) and not isinstance(x, type) and not _is_tensor(x)
                          and not dataclasses.is_dataclass(x) for x in (a, b)):
        raise NotEvaluable("the sides are functions: their equality (extensionality) is not decided "
                           "by comparing values")
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        fa = {f.name for f in dataclasses.fields(a)}  # type: ignore[arg-type]
        return fa == {f.name for f in dataclasses.fields(b)} and all(  # type: ignore[arg-type]
            equal(getattr(a, n), getattr(b, n)) for n in fa)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if _is_tensor(a) != _is_tensor(b):
        # a numeral at a tensor type (`full s 0 = 0`): Lean's `OfNat`/`Zero` on tensors is the
        # constant tensor, so the number stands for that tensor of the other side's shape;
        # any other value is not a tensor at all
        t, c = (a, b) if _is_tensor(a) else (b, a)
        return isinstance(c, (int, Fraction, float)) and not isinstance(c, bool) and all(x == c for x in _entries(t))
    if _is_tensor(a) or _is_tensor(b):
        sa, sb = np.shape(a) if isinstance(a, np.ndarray) else tuple(a.shape), \
            np.shape(b) if isinstance(b, np.ndarray) else tuple(b.shape)
        if tuple(sa) != tuple(sb):
            return False
        ea, eb = _entries(a), _entries(b)
        return all(x == y for x, y in zip(ea, eb))
    if isinstance(a, Ctor) or isinstance(b, Ctor):
        return a == b
    return bool(a == b)


def _entries(t: Any) -> list[Any]:
    if isinstance(t, np.ndarray):
        return list(t.reshape(-1).tolist())
    return [x.item() for x in t.reshape(-1)]


def deviation(approx: Any, exact: Any) -> tuple[float, float]:
    """(largest |approx - exact| over all scalar entries, largest |exact|)."""
    pairs: list[tuple[Any, Any]] = []
    _collect(approx, exact, pairs)
    err = max((abs(Fraction(float(x)) - Fraction(y)) if _finite(x) else Fraction(10**300)
               for x, y in pairs), default=Fraction(0))
    mag = max((abs(Fraction(y)) for _, y in pairs), default=Fraction(0))
    return float(err), float(mag)


def _finite(x: Any) -> bool:
    return bool(np.isfinite(float(x)))


def _collect(a: Any, e: Any, out: list[tuple[Any, Any]]) -> None:
    if dataclasses.is_dataclass(e):
        for f in dataclasses.fields(e):
            _collect(getattr(a, f.name), getattr(e, f.name), out)
    elif isinstance(e, (list, tuple)):
        for x, y in zip(a, e):
            _collect(x, y, out)
    elif isinstance(e, np.ndarray):
        out.extend(zip(_entries(a), _entries(e)))
    elif isinstance(e, (Fraction, int)) and not isinstance(e, bool):
        out.append((a, e))


def convert(D: Domain, v: Any) -> Any:
    """An exact value (Fractions, object arrays) moved into domain `D`; `int`s (Nat) stay."""
    if isinstance(v, Fraction):
        return D.scalar(v)
    if isinstance(v, np.ndarray):
        return D.tensor(v)
    if isinstance(v, list):
        return [convert(D, x) for x in v]
    if isinstance(v, tuple) and not all(isinstance(x, int) for x in v):
        return tuple(convert(D, x) for x in v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return dataclasses.replace(v, **{f.name: convert(D, getattr(v, f.name)) for f in dataclasses.fields(v)})
    return v


# -- structures ------------------------------------------------------------------------------
class Struct:
    """Base of generated structure dataclasses: `defaults(D)` gives the Lean defaults in `D`."""

    __lean_name__ = ""
    __lean_fields__: ClassVar[dict[str, str]] = {}
    __lean_parents__: ClassVar[dict[str, Callable[[], type]]] = {}

    @classmethod
    def defaults(cls, D: Domain) -> dict[str, Any]:
        return {}


# -- loading generated modules ---------------------------------------------------------------
def sibling(here: str, stem: str) -> Any:
    """The generated module `stem` next to the file `here`, loaded by path and cached under a
    name derived from its absolute path (two generated trees never share modules)."""
    path = (Path(here).parent / f"{stem}.py").resolve()
    return load_path(path)


def load_path(path: Path) -> Any:
    key = "_tlb_gen_" + hashlib.sha256(str(path).encode()).hexdigest()[:16] + "_" + path.stem
    mod = sys.modules.get(key)
    if mod is not None:
        return mod
    spec = importlib.util.spec_from_file_location(key, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load generated module {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[key] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[key]
        raise
    return mod
