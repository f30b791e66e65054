"""Python implementations of the vocabulary entries (see `registry.py` for which Lean names).

Conventions (docs/ARCHITECTURE.md §3): a Shape is a tuple of dims, a tensor is an array of the
domain, a TList is a Python list of arrays in context order, a pair is a 2-tuple. Every function
takes the domain `D` first. Elementwise maps apply `f` to whole arrays at once: translated scalar
code is built from Python operators and `D.*` operations, which act entry by entry, so this is
the same as applying `f` to each entry (and it keeps torch on its device).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bridge.vocab.domains import Domain, FractionDomain, _NumpyDomain

Shape = tuple[int, ...]


def _arr(D: Domain, x: Any) -> Any:
    """Keep 0-d results arrays: numpy turns 0-d object/float arithmetic into bare scalars."""
    if isinstance(D, _NumpyDomain):
        if isinstance(x, np.ndarray):
            return x
        out = np.empty((), dtype=D.dtype)
        out[()] = D.scalar(x)
        return out
    if not hasattr(x, "dim"):
        return D.scalar(x)
    return x


# -- shapes ---------------------------------------------------------------------------------
def shape_scalar(D: Domain) -> Shape:
    return ()


def shape_dim(D: Domain, n: int, s: Shape) -> Shape:
    return (int(n), *s)


# -- tensors --------------------------------------------------------------------------------
def tensor_scalar(D: Domain, a: Any) -> Any:
    return _arr(D, D.scalar(a))


def fill(D: Domain, v: Any, s: Shape) -> Any:
    return D.full(tuple(s), v)


def full(D: Domain, s: Shape, v: Any) -> Any:
    return D.full(tuple(s), v)


def map_spec(D: Domain, f: Callable[[Any], Any], t: Any, **_: Any) -> Any:
    if isinstance(D, FractionDomain):  # exact: entry by entry (f may hold a Python `if`)
        return np.asarray(np.frompyfunc(lambda x: D.scalar(f(x)), 1, 1)(t), dtype=object) \
            if np.ndim(t) else _arr(D, f(t[()]))
    return _arr(D, f(t))


def map2_spec(D: Domain, f: Callable[[Any, Any], Any], a: Any, b: Any, **_: Any) -> Any:
    if isinstance(D, FractionDomain):
        return np.asarray(np.frompyfunc(lambda x, y: D.scalar(f(x, y)), 2, 1)(a, b), dtype=object) \
            if np.ndim(a) else _arr(D, f(a[()], b[()]))
    return _arr(D, f(a, b))


def add_spec(D: Domain, a: Any, b: Any, **_: Any) -> Any:
    return map2_spec(D, lambda x, y: x + y, a, b)


def sub_spec(D: Domain, a: Any, b: Any, **_: Any) -> Any:
    return map2_spec(D, lambda x, y: x - y, a, b)


def mul_spec(D: Domain, a: Any, b: Any, **_: Any) -> Any:
    return map2_spec(D, lambda x, y: x * y, a, b)


def div_spec(D: Domain, a: Any, b: Any, **_: Any) -> Any:
    return map2_spec(D, lambda x, y: D.div(x, y, "Spec.Tensor.divSpec"), a, b)


def neg_spec(D: Domain, a: Any, **_: Any) -> Any:
    return map_spec(D, lambda x: -x, a)


def square_spec(D: Domain, a: Any, **_: Any) -> Any:
    return map_spec(D, lambda x: x * x, a)


def sqrt_spec(D: Domain, a: Any, **_: Any) -> Any:
    return map_spec(D, lambda x: D.sqrt(D.max(x, D.scalar(0))), a)


def scale_spec(D: Domain, t: Any, c: Any, **_: Any) -> Any:
    return map_spec(D, lambda x: x * c, t)


def dot_acc(D: Domain, acc: Any, a: Any, b: Any, **_: Any) -> Any:
    """`acc + a0*b0 + a1*b1 + ...`, left to right in row-major order."""
    for x, y in zip(D.flat(a), D.flat(b), strict=True):
        acc = acc + x * y
    return acc


def dot(D: Domain, a: Any, b: Any, **_: Any) -> Any:
    return dot_acc(D, D.scalar(0), a, b)


# -- TList ----------------------------------------------------------------------------------
def tlist_nil(D: Domain) -> list[Any]:
    return []


def tlist_cons(D: Domain, t: Any, ts: list[Any], **_: Any) -> list[Any]:
    return [t, *ts]


def cast(D: Domain, h: Any, xs: Any, **_: Any) -> Any:
    return xs


def tlist_append(D: Domain, xs: list[Any], ys: list[Any], **_: Any) -> list[Any]:
    return [*xs, *ys]


def tlist_zero(D: Domain, ss: list[Shape], **_: Any) -> list[Any]:
    return [D.full(tuple(s), 0) for s in ss]


def tlist_add(D: Domain, xs: list[Any], ys: list[Any], **_: Any) -> list[Any]:
    return [add_spec(D, x, y) for x, y in zip(xs, ys, strict=True)]


def tlist_sub(D: Domain, xs: list[Any], ys: list[Any], **_: Any) -> list[Any]:
    return [sub_spec(D, x, y) for x, y in zip(xs, ys, strict=True)]


def tlist_scale(D: Domain, c: Any, xs: list[Any], **_: Any) -> list[Any]:
    return [scale_spec(D, x, c) for x in xs]


def tlist_snoc(D: Domain, xs: list[Any], t: Any, **_: Any) -> list[Any]:
    return [*xs, t]


def tlist_unsnoc(D: Domain, xs: list[Any], **_: Any) -> tuple[list[Any], Any]:
    return (list(xs[:-1]), xs[-1])


def tlist_dot_list(D: Domain, xs: list[Any], ys: list[Any], **_: Any) -> Any:
    # dotList (a :: xs) (b :: ys) = dot a b + dotList xs ys: the sum nests to the right
    acc: Any = D.scalar(0)
    for x, y in reversed(list(zip(xs, ys, strict=True))):
        acc = dot(D, x, y) + acc
    return acc


def tlist_get(D: Domain, xs: list[Any], i: int, **_: Any) -> Any:
    return xs[int(i)]


# -- scalars --------------------------------------------------------------------------------
def sqrt(D: Domain, x: Any) -> Any:
    return D.sqrt(x)


def exp(D: Domain, x: Any) -> Any:
    return D.exp(x)


def max_(D: Domain, a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    return D.max(a, b)


def min_(D: Domain, a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    return D.min(a, b)


def ident(D: Domain, x: Any) -> Any:
    return x


# -- Lean core: lists, pairs, naturals ------------------------------------------------------
def list_nil(D: Domain) -> list[Any]:
    return []


def list_cons(D: Domain, x: Any, xs: Any) -> Any:
    return (x, *xs) if isinstance(xs, tuple) else [x, *xs]


def length(D: Domain, xs: Any) -> int:
    return len(xs)


def append(D: Domain, xs: Any, ys: Any) -> Any:
    if isinstance(xs, tuple) and isinstance(ys, tuple):
        return (*xs, *ys)
    return [*xs, *ys]


def fin_range(D: Domain, n: int) -> list[int]:
    return list(range(int(n)))


def list_take(D: Domain, n: int, xs: Any) -> list[Any]:
    return list(xs)[: int(n)]


def list_drop(D: Domain, n: int, xs: Any) -> list[Any]:
    return list(xs)[int(n):]


def list_sum(D: Domain, xs: Any) -> Any:
    # Lean's `List.sum` is `foldr (· + ·) 0`: x₁ + (x₂ + (… + 0)); exact domains do not care, the
    # order is kept for the float ones
    acc: Any = 0
    for x in reversed(list(xs)):
        acc = x + acc
    return acc


def list_prod(D: Domain, xs: Any) -> Any:
    acc: Any = 1
    for x in reversed(list(xs)):
        acc = x * acc
    return acc


def foldl(D: Domain, f: Callable[[Any, Any], Any], init: Any, xs: Any) -> Any:
    acc = init
    for x in xs:
        acc = f(acc, x)
    return acc


def list_map(D: Domain, f: Callable[[Any], Any], xs: Any) -> list[Any]:
    return [f(x) for x in xs]


def list_get(D: Domain, xs: Any, i: int) -> Any:
    return xs[int(i)]


def fst(D: Domain, p: Any) -> Any:
    return p[0]


def snd(D: Domain, p: Any) -> Any:
    return p[1]


def pair(D: Domain, a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b)


def succ(D: Domain, n: int) -> int:
    return int(n) + 1


def nat_zero(D: Domain) -> int:
    return 0


def true_(D: Domain) -> bool:
    return True


def false_(D: Domain) -> bool:
    return False


