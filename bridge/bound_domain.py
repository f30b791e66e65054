"""A scalar domain whose values are running-error bounds (`bridge.numerics.ErrVal`).

Evaluating a generated reference over `BoundDomain(fmt)` on the runtime's inputs yields, per output
element, a rigorous bound on the rounding error of evaluating the spec's own expression in `fmt`:
the bound is *derived from the spec expression*, never a tolerance. Tensors and scalars are both
`ErrVal`s (numpy arrays of values and bounds in `fmt.work`: float64, or longdouble for float64
runtimes so that subnormal intermediates and the underflow term are representable); the vocabulary's elementwise maps act on
whole arrays for every domain but `FractionDomain`, so the reference runs unchanged.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from bridge.numerics import ErrVal, FloatFormat, round_fraction
from bridge.vocab.domains import Domain


class BoundDomain(Domain):
    """Running-error-bound arithmetic for a runtime working in `fmt`."""

    def __init__(self, fmt: FloatFormat) -> None:
        self.fmt = fmt
        self.name = f"bound-{fmt.name}"

    def __repr__(self) -> str:
        return f"BoundDomain({self.fmt.name})"

    def scalar(self, x: Any) -> Any:
        if isinstance(x, ErrVal):
            return x
        if hasattr(x, "detach"):
            x = float(x.detach().to("cpu").double().item())
        if isinstance(x, np.ndarray):
            x = x.item()
        q = Fraction(x) if not isinstance(x, Fraction) else x
        r = round_fraction(q, self.fmt)  # a literal is rounded once to α: that is its error
        w = self.fmt.work
        err = w(0) if math.isinf(r) or Fraction(r) == q else abs(w(float(q))) * w(self.fmt.u) + self.fmt.eta_work
        return ErrVal(w(float(q)), err, self.fmt)

    def sqrt(self, x: Any) -> Any:
        return self._lift(x).sqrt()

    def max(self, a: Any, b: Any) -> Any:
        # max is 1-Lipschitz in each argument: the larger of the two bounds covers it
        a, b = self._lift(a), self._lift(b)
        return ErrVal(np.maximum(a.v, b.v), np.maximum(a.e, b.e), self.fmt)

    def min(self, a: Any, b: Any) -> Any:
        a, b = self._lift(a), self._lift(b)
        return ErrVal(np.minimum(a.v, b.v), np.maximum(a.e, b.e), self.fmt)

    def full(self, shape: tuple[int, ...], v: Any) -> Any:
        s = self.scalar(v)
        return ErrVal(np.broadcast_to(s.v, shape).copy(), np.broadcast_to(s.e, shape).copy(), self.fmt)

    def tensor(self, value: Any) -> Any:
        """Runtime inputs are exact (error 0): the check runs on the runtime's own values."""
        if isinstance(value, ErrVal):
            return value
        if hasattr(value, "detach"):
            value = value.detach().to("cpu").double().numpy()
        return ErrVal.exact(value, self.fmt)

    def shape_of(self, t: Any) -> tuple[int, ...]:
        return tuple(int(n) for n in np.shape(t.v))

    def flat(self, t: Any) -> list[Any]:
        return [ErrVal(v, e, self.fmt) for v, e in zip(np.ravel(t.v), np.ravel(t.e))]

    def to_fraction(self, x: Any) -> Fraction:
        return Fraction(float(x.v))
