"""Scalar domains: what a Lean scalar of type `α` is in Python.

A domain turns numbers into its scalars, builds tensors of a shape, and supplies the scalar
operations the translated code needs beyond `+ - *` (those are Python operators, which every
domain's scalars and arrays support elementwise).

- `FractionDomain`: exact rationals, tensors are numpy `object` arrays of `Fraction`. The ring
  the theorems talk about. `sqrt` is exact when the argument is the square of a rational;
  otherwise it is the rational nearest to the true root with a denominator of 2**SQRT_BITS
  (round-half-even), i.e. correctly rounded to SQRT_BITS fractional bits — far below any
  runtime dtype's ulp, and deterministic, so both sides of a theorem see the same value.
- `Float64Domain`: numpy float64 scalars and arrays.
- `TorchDomain(dtype, device)`: torch tensors of that dtype on that device; scalars are 0-d
  tensors. Numbers (literals such as `1/100`, Fractions) are rounded *once*, correctly, to the
  dtype (no double rounding through float64), since α's values are values of that dtype.

Integers that stand for `Nat` stay Python `int`s in every domain; Python's mixed arithmetic
(`int` with `Fraction`, `numpy.float64`, `torch.Tensor`) keeps the domain's type.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

SQRT_BITS = 256

Number = int | Fraction | float


def _is_number(x: object) -> bool:
    return isinstance(x, (int, Fraction, float)) and not isinstance(x, bool)


def exact_sqrt(q: Fraction) -> Fraction:
    """Exact root of a rational square; otherwise round-half-even to SQRT_BITS fractional bits."""
    if q < 0:
        raise ValueError(f"sqrt of a negative number {q}")
    n, d = q.numerator, q.denominator
    rn, rd = math.isqrt(n), math.isqrt(d)
    if rn * rn == n and rd * rd == d:
        return Fraction(rn, rd)
    # floor(sqrt(q) * 2**k) = isqrt(q * 4**k); then decide the rounding of the last bit.
    scaled = Fraction(n << (2 * SQRT_BITS), d)
    lo = math.isqrt(scaled.numerator // scaled.denominator)
    # sqrt(q)*2**k lies in [lo, lo+1); round up when (lo + 1/2)^2 < q*4**k (no exact tie: irrational).
    if Fraction((2 * lo + 1) ** 2, 4) < scaled:
        lo += 1
    return Fraction(lo, 1 << SQRT_BITS)


def round_to_format(q: Fraction, mantissa_bits: int, min_exp: int, max_exp: int) -> Fraction:
    """`q` correctly rounded (nearest, ties to even) to a binary format with `mantissa_bits`
    bits of precision (implicit bit included), normal exponents in [min_exp, max_exp] and
    subnormals below. Overflow gives an `OverflowError` (the caller maps it to inf)."""
    if q == 0:
        return Fraction(0)
    sign = -1 if q < 0 else 1
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    # now 2**e <= a < 2**(e+1)
    e = max(e, min_exp)
    ulp_exp = e - (mantissa_bits - 1)
    scaled = a / (Fraction(2) ** ulp_exp)
    floor = scaled.numerator // scaled.denominator
    rem = scaled - floor
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and floor % 2 == 1):
        floor += 1
    result = Fraction(floor) * Fraction(2) ** ulp_exp
    if result >= Fraction(2) ** (max_exp + 1):
        raise OverflowError(f"{q} overflows the format")
    return sign * result


class LeanZeroDivisionError(ZeroDivisionError):
    """A division by zero in exact arithmetic, naming the Lean declaration that divided.

    (Lean's own fields define `x / 0 = 0`; the exact domain refuses instead, so a spec value
    that depends on it is never silently taken for a real one.)"""

    def __init__(self, where: str) -> None:
        super().__init__(f"division by zero in Lean `{where or 'an elementwise division'}` (exact domain)")
        self.where = where


class Domain:
    """Interface shared by all domains; see the module docstring for the conventions."""

    name: str = "abstract"

    # -- scalars ---------------------------------------------------------------------------
    def scalar(self, x: Any) -> Any:
        """A number (int, Fraction, float) or an existing scalar as a scalar of this domain."""
        raise NotImplementedError

    def div(self, a: Any, b: Any, where: str = "") -> Any:
        """`a / b` at type α (`where`: the Lean declaration, for messages). Plain numbers (a
        quotient whose type the translator could not tell) are divided exactly and the quotient
        converted once. A zero divisor gives what the domain's arithmetic gives (inf/nan in
        floating point); `FractionDomain` raises `LeanZeroDivisionError`."""
        if _is_number(a) and _is_number(b) and b != 0:
            return self.scalar(Fraction(a) / Fraction(b))
        return self._lift(a) / self._lift(b)

    def sqrt(self, x: Any) -> Any:
        raise NotImplementedError

    def exp(self, x: Any) -> Any:
        raise NotImplementedError(f"exp is not available in the {self.name} domain")

    def max(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def min(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def _lift(self, x: Any) -> Any:
        return self.scalar(x) if _is_number(x) else x

    # -- tensors ---------------------------------------------------------------------------
    def full(self, shape: tuple[int, ...], v: Any) -> Any:
        raise NotImplementedError

    def tensor(self, value: Any) -> Any:
        """An array (of this or another domain), nested lists or a scalar as a tensor here."""
        raise NotImplementedError

    def shape_of(self, t: Any) -> tuple[int, ...]:
        return tuple(int(n) for n in t.shape)

    def flat(self, t: Any) -> list[Any]:
        """Entries in row-major order, as scalars of this domain."""
        raise NotImplementedError

    def to_fraction(self, x: Any) -> Fraction:
        """A scalar of this domain as the exact rational it denotes."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _NumpyDomain(Domain):
    dtype: Any = object

    def _ufunc(self, f: Any, nin: int) -> Any:
        return np.frompyfunc(f, nin, 1)

    def full(self, shape: tuple[int, ...], v: Any) -> Any:
        out = np.empty(tuple(shape), dtype=self.dtype)
        out[...] = self.scalar(v)
        return out

    def shape_of(self, t: Any) -> tuple[int, ...]:
        return tuple(int(n) for n in np.shape(t))

    def flat(self, t: Any) -> list[Any]:
        return [self.scalar(x) for x in np.asarray(t, dtype=self.dtype).reshape(-1).tolist()]


class FractionDomain(_NumpyDomain):
    """Exact rational arithmetic; tensors are numpy object arrays of `Fraction`."""

    name = "fraction"
    dtype = object

    def scalar(self, x: Any) -> Any:
        if isinstance(x, Fraction):
            return x
        if isinstance(x, np.ndarray) and x.ndim == 0:
            x = x.item()
        if hasattr(x, "detach"):  # a 0-d torch tensor: its exact value
            x = float(x.detach().to("cpu").double().item())
        if isinstance(x, (int, np.integer)):
            return Fraction(int(x))
        if isinstance(x, (float, np.floating)):
            return Fraction(float(x))  # floats are dyadic rationals: converted exactly
        if isinstance(x, Fraction):
            return x
        raise TypeError(f"cannot make an exact scalar from {x!r}")

    def div(self, a: Any, b: Any, where: str = "") -> Any:
        try:
            return super().div(a, b, where)
        except ZeroDivisionError:
            raise LeanZeroDivisionError(where) from None

    def sqrt(self, x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return np.asarray(self._ufunc(lambda e: exact_sqrt(self.scalar(e)), 1)(x), dtype=object)
        return exact_sqrt(self.scalar(x))

    def max(self, a: Any, b: Any) -> Any:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.asarray(self._ufunc(lambda x, y: self.scalar(max(x, y)), 2)(a, b), dtype=object)
        return self.scalar(max(a, b))

    def min(self, a: Any, b: Any) -> Any:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return np.asarray(self._ufunc(lambda x, y: self.scalar(min(x, y)), 2)(a, b), dtype=object)
        return self.scalar(min(a, b))

    def tensor(self, value: Any) -> Any:
        if hasattr(value, "detach"):
            value = value.detach().to("cpu").double().numpy()
        arr = np.asarray(value, dtype=object)
        return np.asarray(self._ufunc(self.scalar, 1)(arr), dtype=object) if arr.size else arr

    def to_fraction(self, x: Any) -> Fraction:
        return self.scalar(x)  # type: ignore[no-any-return]


class Float64Domain(_NumpyDomain):
    """IEEE binary64 through numpy."""

    name = "float64"
    dtype = np.float64

    def scalar(self, x: Any) -> Any:
        if isinstance(x, Fraction):
            return np.float64(float(x))  # Fraction.__float__ rounds correctly
        if hasattr(x, "detach"):
            return np.float64(x.detach().to("cpu").double().item())
        return np.float64(x)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def max(self, a: Any, b: Any) -> Any:
        return np.maximum(self._lift(a), self._lift(b))

    def min(self, a: Any, b: Any) -> Any:
        return np.minimum(self._lift(a), self._lift(b))

    def exp(self, x: Any) -> Any:
        return np.exp(x)

    def tensor(self, value: Any) -> Any:
        if hasattr(value, "detach"):
            value = value.detach().to("cpu").double().numpy()
        arr = np.asarray(value)
        if arr.dtype == object:
            return np.asarray(self._ufunc(lambda e: float(e), 1)(arr), dtype=np.float64) if arr.size \
                else np.zeros(arr.shape)
        return arr.astype(np.float64)

    def to_fraction(self, x: Any) -> Fraction:
        return Fraction(float(x))


# (mantissa bits incl. implicit, min normal exponent, max exponent) of torch's float dtypes
_FORMATS: dict[str, tuple[int, int, int]] = {
    "torch.float64": (53, -1022, 1023),
    "torch.float32": (24, -126, 127),
    "torch.float16": (11, -14, 15),
    "torch.bfloat16": (8, -126, 127),
}


class TorchDomain(Domain):
    """Torch tensors of one dtype on one device; scalars are 0-d tensors of that dtype."""

    def __init__(self, dtype: Any = None, device: Any = "cpu") -> None:
        import torch

        self.torch = torch
        self.dtype = dtype if dtype is not None else torch.float64
        self.device = torch.device(device)
        self.name = f"torch-{str(self.dtype).replace('torch.', '')}-{self.device}"

    def __repr__(self) -> str:
        return f"TorchDomain({self.dtype}, {str(self.device)!r})"

    def _round(self, q: Fraction) -> float:
        fmt = _FORMATS.get(str(self.dtype))
        if fmt is None:
            return float(q)
        try:
            return float(round_to_format(q, *fmt))  # exact in float64: every format fits
        except OverflowError:
            return math.inf if q > 0 else -math.inf

    def scalar(self, x: Any) -> Any:
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x.to(dtype=self.dtype, device=self.device).reshape(())
        if isinstance(x, np.ndarray):
            x = x.item()
        if isinstance(x, (int, Fraction, np.integer)) and not isinstance(x, bool):
            x = self._round(Fraction(int(x)) if isinstance(x, np.integer) else Fraction(x))
        elif isinstance(x, (float, np.floating)):
            x = self._round(Fraction(float(x))) if math.isfinite(x) else float(x)
        return torch.tensor(x, dtype=self.dtype, device=self.device)

    def sqrt(self, x: Any) -> Any:
        return self.torch.sqrt(self._lift(x))

    def exp(self, x: Any) -> Any:
        return self.torch.exp(self._lift(x))

    def max(self, a: Any, b: Any) -> Any:
        return self.torch.maximum(self._lift(a), self._lift(b))

    def min(self, a: Any, b: Any) -> Any:
        return self.torch.minimum(self._lift(a), self._lift(b))

    def full(self, shape: tuple[int, ...], v: Any) -> Any:
        return self.scalar(v).expand(tuple(shape)).clone()

    def tensor(self, value: Any) -> Any:
        torch = self.torch
        if isinstance(value, torch.Tensor):
            return value.to(dtype=self.dtype, device=self.device)
        arr = np.asarray(value, dtype=object)
        flat = [self.scalar(e).item() for e in arr.reshape(-1).tolist()]
        return torch.tensor(flat, dtype=self.dtype, device=self.device).reshape(arr.shape)

    def flat(self, t: Any) -> list[Any]:
        return list(t.reshape(-1).unbind(0)) if t.dim() else [t.reshape(())]

    def to_fraction(self, x: Any) -> Fraction:
        return Fraction(float(x.detach().to("cpu").double().item()))
