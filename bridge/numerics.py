"""Exact rounding, ulp distances and verdicts for runtime tensors against exact spec values.

The spec's value is computed exactly (``fractions.Fraction``) on the runtime's own inputs by the
generated reference; this module only *measures*:

* :func:`round_fraction` rounds a Fraction to a binary floating-point format correctly (round to
  nearest, ties to even) with integer arithmetic on numerator and denominator, including the
  subnormal range (the quantum never drops below ``2**(emin-p+1)``) and overflow to ``inf``
  (a value whose rounding, with unbounded exponent, exceeds the largest finite number).
* :func:`ulp` is the spacing of the format *at the exact value*: ``2**(max(e, emin) - p + 1)`` for
  ``2**e <= |q| < 2**(e+1)``; distances are ``|x - q| / ulp(q)``.
* :class:`ErrVal` is a running-error-bound arithmetic. Evaluating the spec expression over it gives,
  per element, a bound ``B`` on ``|fl(spec) - spec|`` for any evaluation that performs the spec's
  operations in the runtime's format (unit roundoff ``u = 2**-p``, underflow term
  ``eta = 2**(emin-p)``). For ``z = x op y`` with computed operands carrying bounds ``ex, ey``:

  - ``x ± y``: ``e = ex + ey``
  - ``x * y``: ``e = |x|·ey + |y|·ex + ex·ey``
  - ``x / y``: ``e = (ex + |z|·ey) / (|y| - ey)`` (``inf`` when ``|y| <= ey``)
  - ``sqrt(max x 0)``: ``e = min(sqrt(ex), ex / z)``

  and then the rounding of the result: ``B_z = e + u·(|z| + e) + eta``. These are rigorous (not
  only first order) because the rounding is charged on a bound of the *computed* magnitude
  ``|z| + e``. For SGD's ``p - g·lr`` this gives
  ``B = (|g·lr|·u + eta)·(1 + u) + u·|p - g·lr| + eta`` — the first-order
  ``(|g·lr| + |p - g·lr|)·u`` plus second-order and underflow terms. Float64 evaluation of the
  bound itself is inflated by ``1 + 2**-40`` per operation so that its own rounding cannot make it
  too small. See docs/VERDICTS.md.
* :func:`compare` gives the verdict: ``exact`` (equal to the correctly rounded spec; ``+0`` and
  ``-0`` are equal because the rational spec has no signed zero), ``rounding`` (``|x - q| <= B``),
  ``violation`` otherwise (NaN always, ``inf`` unless the spec rounds to the same ``inf``).
* :func:`round_f64_array` and :func:`compare_single_rounding` are the fast exact path for specs
  whose float64 evaluation on the runtime's inputs is *one* rounding of the exact value (see the
  function docstring): then correct rounding to the runtime format is decided in float64, except
  at format midpoints, which are recomputed exactly with the Fraction reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

Verdict = Literal["exact", "rounding", "violation"]
_SAFE = 1.0 + 2.0**-40  # inflation of every bound operation (its own rounding is < 2**-52)
# Bounds for a float64 runtime are computed in a type with a wider exponent range (x87 extended
# `longdouble`, 64-bit significand, exponents to 2**-16382 on x86-64 Linux): float64 itself cannot
# hold the underflow term eta = 2**-1075 (it rounds to 0) nor the intermediates below 2**-1074,
# so a float64 bound would silently lose the absolute underflow errors. Where longdouble is not
# wider (e.g. arm64 macOS) float64 is used with eta rounded *up* to 2**-1074 (see docs/VERDICTS.md).
_WIDE: Any = np.longdouble if np.finfo(np.longdouble).minexp < -1100 else None


@dataclass(frozen=True)
class FloatFormat:
    """A binary IEEE-style format: ``p`` significand bits (with the implicit one), exponent range."""

    name: str
    p: int
    emin: int
    emax: int

    @property
    def u(self) -> float:
        """Unit roundoff of round-to-nearest: ``2**-p``."""
        return 2.0**-self.p

    @property
    def single_rounding_in_f64(self) -> bool:
        """``2p + 1 <= 53``: every product of two values and every midpoint of this format is a
        float64, so a float64 evaluation of a single-rounding spec rounds once (the fast path)."""
        return 2 * self.p + 1 <= 53

    @property
    def eta(self) -> float:
        """Largest absolute rounding error in the subnormal range: half the smallest subnormal."""
        return math.ldexp(1.0, self.emin - self.p)

    @property
    def work(self) -> Any:
        """numpy type in which bounds for this format are computed (see `_WIDE`)."""
        return _WIDE if (self.emin - self.p < -1074 and _WIDE is not None) else np.float64

    @property
    def eta_work(self) -> Any:
        """``eta`` in the work type, never rounded down to 0."""
        w = self.work
        e = np.ldexp(w(1), self.emin - self.p)
        return e if e > 0 else w(math.ldexp(1.0, -1074))

    @property
    def max_finite(self) -> Fraction:
        return Fraction((1 << self.p) - 1) * Fraction(2) ** (self.emax - self.p + 1)


FORMATS: dict[str, FloatFormat] = {
    "float64": FloatFormat("float64", 53, -1022, 1023),
    "float32": FloatFormat("float32", 24, -126, 127),
    "float16": FloatFormat("float16", 11, -14, 15),
    "bfloat16": FloatFormat("bfloat16", 8, -126, 127),
}


def format_of(dtype: Any) -> FloatFormat:
    """The format of a torch dtype or a dtype name (``torch.bfloat16``, ``"float16"``)."""
    name = str(dtype).removeprefix("torch.")
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unsupported float dtype {dtype!r}; supported: {', '.join(FORMATS)}") from None


def _floor_log2(n: int, d: int) -> int:
    """``floor(log2(n/d))`` for positive integers, exactly."""
    e = n.bit_length() - d.bit_length()
    if (n << -e if e < 0 else n) < (d << e if e > 0 else d):
        e -= 1
    return e


def round_fraction(q: Fraction, fmt: FloatFormat) -> float:
    """``q`` correctly rounded (nearest, ties to even) to ``fmt``, returned as an exact Python float."""
    if q == 0:
        return 0.0
    sign = -1.0 if q < 0 else 1.0
    n, d = abs(q.numerator), q.denominator
    k = max(_floor_log2(n, d), fmt.emin) - fmt.p + 1  # exponent of the quantum at q
    num, den = (n, d << k) if k >= 0 else (n << -k, d)
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m & 1):
        m += 1
    if Fraction(m) * Fraction(2) ** k > fmt.max_finite:
        return sign * math.inf
    return sign * math.ldexp(m, k)


def ulp(q: Fraction, fmt: FloatFormat) -> Fraction:
    """Spacing of ``fmt`` at the exact value ``q`` (the subnormal spacing at and near zero)."""
    e = fmt.emin if q == 0 else max(_floor_log2(abs(q.numerator), q.denominator), fmt.emin)
    return Fraction(2) ** (min(e, fmt.emax) - fmt.p + 1)


def ulp_distance(x: float, q: Fraction, fmt: FloatFormat) -> float:
    """``|x - q|`` in units of ``fmt``'s spacing at ``q`` (``inf`` for NaN or a wrong infinity)."""
    if math.isnan(x):
        return math.inf
    if math.isinf(x):
        return 0.0 if round_fraction(q, fmt) == x else math.inf
    return float(abs(Fraction(x) - q) / ulp(q, fmt))


# --------------------------------------------------------------------------- running error bounds


class ErrVal:
    """Value approximation and rigorous absolute error bound of a computed value (arrays or scalars).

    ``v`` approximates the exact intermediate (float64); ``e`` bounds ``|computed - exact|`` for a
    runtime working in ``fmt``. Inputs carry ``e = 0`` (the check runs on the runtime's own inputs).
    """

    __slots__ = ("e", "fmt", "v")

    def __init__(self, v: Any, e: Any, fmt: FloatFormat) -> None:
        self.v, self.e, self.fmt = v, e, fmt

    @classmethod
    def exact(cls, v: Any, fmt: FloatFormat) -> ErrVal:
        arr = np.asarray(v, dtype=fmt.work)
        return cls(arr, np.zeros_like(arr), fmt)

    def _rounded(self, z: Any, e: Any) -> ErrVal:
        f = self.fmt
        bound = (e + f.u * (np.abs(z) + e) + f.eta_work) * _SAFE
        return ErrVal(z, bound, f)

    def _lift(self, other: Any) -> ErrVal:
        return other if isinstance(other, ErrVal) else ErrVal.exact(other, self.fmt)

    def __add__(self, other: Any) -> ErrVal:
        o = self._lift(other)
        return self._rounded(self.v + o.v, (self.e + o.e) * _SAFE)

    __radd__ = __add__

    def __sub__(self, other: Any) -> ErrVal:
        o = self._lift(other)
        return self._rounded(self.v - o.v, (self.e + o.e) * _SAFE)

    def __rsub__(self, other: Any) -> ErrVal:
        return self._lift(other) - self

    def __neg__(self) -> ErrVal:
        return ErrVal(-self.v, self.e, self.fmt)  # exact

    def __mul__(self, other: Any) -> ErrVal:
        o = self._lift(other)
        with np.errstate(invalid="ignore"):  # inf·0: an unbounded factor stays unbounded (nan -> inf)
            e = (np.abs(self.v) * o.e + np.abs(o.v) * self.e + self.e * o.e) * _SAFE
        return self._rounded(self.v * o.v, np.where(np.isnan(e), np.inf, e))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> ErrVal:
        o = self._lift(other)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = self.v / o.v
            margin = np.abs(o.v) - o.e * _SAFE
            e = np.where(margin > 0, (self.e + np.abs(z) * o.e) / np.where(margin > 0, margin, 1.0), np.inf)
        return self._rounded(z, e * _SAFE)

    def __rtruediv__(self, other: Any) -> ErrVal:
        return self._lift(other) / self

    def sqrt(self) -> ErrVal:
        """``sqrt (max x 0)``, as the spec's ``sqrtSpec``."""
        z = np.sqrt(np.maximum(self.v, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.minimum(np.sqrt(self.e), np.where(z > 0, self.e / np.where(z > 0, z, 1.0), np.inf))
        return self._rounded(z, e * _SAFE * _SAFE)

    def __float__(self) -> float:
        return float(self.v)


def bound_f64(e: Any) -> np.ndarray:
    """Bounds (float64 or the wider work type) as float64, rounded *up* (a bound may not shrink)."""
    arr = np.asarray(e)
    out = arr.astype(np.float64)
    if arr.dtype != np.float64:
        with np.errstate(over="ignore"):
            out = np.where(out < arr, np.nextafter(out, np.inf), out)
    return np.asarray(out, dtype=np.float64)


# --------------------------------------------------------------------------------------- verdicts


@dataclass
class Comparison:
    """The verdict for one output tensor (or several, merged) against the exact spec."""

    verdict: Verdict
    n: int
    n_off: int = 0  # elements not bitwise equal to the correctly rounded spec
    max_ulp: float = 0.0
    first_index: int | None = None  # first element beyond the bound (else first element off)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def share_off(self) -> float:
        return self.n_off / self.n if self.n else 0.0


_RANK = {"exact": 0, "rounding": 1, "violation": 2}


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    return max(verdicts, key=_RANK.__getitem__, default="exact")


def merge(parts: Sequence[Comparison]) -> Comparison:
    """One comparison for several outputs: the worst verdict, its first offender, summed counts."""
    if not parts:
        return Comparison("exact", 0)
    lead = max(parts, key=lambda c: (_RANK[c.verdict], c.first_index is not None))
    return Comparison(
        verdict=lead.verdict,
        n=sum(c.n for c in parts),
        n_off=sum(c.n_off for c in parts),
        max_ulp=max(c.max_ulp for c in parts),
        first_index=lead.first_index,
        detail=dict(lead.detail),
    )


def compare(
    runtime: np.ndarray,
    exact: Sequence[Fraction],
    bound: np.ndarray,
    fmt: FloatFormat,
) -> Comparison:
    """Verdict of runtime values (float64 array holding the runtime dtype's values exactly) against
    exact spec values, with per-element bounds ``bound`` from :class:`ErrVal`."""
    xs = np.asarray(runtime, dtype=np.float64).ravel()
    bs = np.asarray(bound, dtype=np.float64).ravel()
    n = xs.size
    n_off, max_ulp, first_off, first_bad = 0, 0.0, None, None
    for i in range(n):
        x, q = float(xs[i]), exact[i]
        r = round_fraction(q, fmt)
        if x == r:  # also -0.0 == 0.0 and inf == inf
            continue
        n_off += 1
        dist = ulp_distance(x, q, fmt)
        max_ulp = max(max_ulp, dist)
        if first_off is None:
            first_off = i
        if first_bad is None and (not math.isfinite(x) or (math.isfinite(float(bs[i])) and abs(Fraction(x) - q) > Fraction(float(bs[i])))):
            first_bad = i
    verdict: Verdict = "violation" if first_bad is not None else ("rounding" if n_off else "exact")
    idx = first_bad if first_bad is not None else first_off
    detail: dict[str, Any] = {}
    if idx is not None:
        detail = {
            "runtime": float(xs[idx]),
            "spec_exact": str(exact[idx]),
            "spec_rounded": round_fraction(exact[idx], fmt),
            "bound": float(bs[idx]),
            "ulp": ulp_distance(float(xs[idx]), exact[idx], fmt),
        }
    return Comparison(verdict, n, n_off, max_ulp, idx, detail)


def round_f64_array(s: np.ndarray, fmt: FloatFormat) -> tuple[np.ndarray, np.ndarray]:
    """Float64 values correctly rounded to ``fmt`` (as float64), and a mask of exact midpoints.

    Exact in float64 arithmetic: scaling by the quantum is a power of two, ``rint`` rounds half to
    even, and the result has at most ``p <= 53`` bits. (``torch``'s float64→bfloat16 cast goes
    through float32 and can double-round, so it is not used.)
    """
    s = np.asarray(s, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        _, ex = np.frexp(s)  # s = m * 2**ex, 0.5 <= |m| < 1, so floor(log2|s|) = ex - 1
        k = np.maximum(ex - 1, fmt.emin) - fmt.p + 1
        t = np.ldexp(s, -k)
        r = np.ldexp(np.rint(t), k)
        midpoint = np.abs(t - np.floor(t)) == 0.5
        r = np.where(np.abs(r) > float(fmt.max_finite), np.copysign(np.inf, s), r)
    return r, midpoint


def compare_single_rounding(
    runtime: np.ndarray,
    s: np.ndarray,
    fmt: FloatFormat,
    exact_at: Callable[[np.ndarray], list[Fraction]],
    bound_at: Callable[[np.ndarray], np.ndarray],
) -> Comparison:
    """Fast verdict when ``s`` is the float64 rounding of the exact spec value (one rounding).

    Soundness: if ``s = fl64(q)`` then ``fl_fmt(s) = fl_fmt(q)`` unless ``s`` is a midpoint of
    ``fmt``: rounding to nearest is monotone and every midpoint of a format with ``p <= 26`` bits is
    a float64, so ``q`` and ``s`` lie on the same side of every midpoint. Midpoints are recomputed
    exactly (``exact_at``). Elements whose runtime value differs from the correctly rounded spec are
    measured exactly too, against ``bound_at`` (the spec's running-error bound at those indices);
    a correct runtime has few such elements, so the exact work is small.
    """
    if not fmt.single_rounding_in_f64:
        raise ValueError(f"single-rounding fast path needs p <= 26 bits; {fmt.name} has {fmt.p}")
    x = np.asarray(runtime, dtype=np.float64).ravel()
    r, mid = round_f64_array(np.asarray(s, dtype=np.float64).ravel(), fmt)
    suspect = np.flatnonzero(mid | (x != r))  # NaN != r: always a suspect
    if suspect.size == 0:
        return Comparison("exact", x.size)
    sub = compare(x[suspect], exact_at(suspect), bound_at(suspect), fmt)
    sub.n = x.size
    if sub.first_index is not None:
        sub.first_index = int(suspect[sub.first_index])
    return sub
