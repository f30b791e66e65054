"""Vectorised, chunked form of the single-rounding fast exact path for float32 runtimes (issue 5).

Same method and soundness argument as :func:`bridge.numerics.compare_single_rounding`
(docs/VERDICTS.md, "Fast exact path"), done in torch instead of numpy and over bounded chunks:

* ``s`` is the spec evaluated by the generated reference over ``TorchDomain(float64)`` on a chunk
  of the runtime's inputs (elementwise specs only, as the binding's ``exact_method`` declares).
  For inputs of a format with ``p <= 26`` bits this is *one* rounding of the exact value ``q``.
* No float32 cast is needed: with ``b(v)`` the bit pattern of a float64 ``v`` as an int64
  (monotone in ``v`` for each sign) and ``x`` the runtime's float32 value (exactly a float64),
  ``|b(s) - b(x)| < 2^28`` (int64 difference) implies ``x == fl32(s)`` and ``s`` is no float32
  midpoint and not the overflow threshold: in the float32 normal binade ``[2^e, 2^(e+1))`` a float64
  ulp is ``2^(e-52)``, so ``2^28`` of them are half the float32 spacing ``2^(e-23)`` (at ``x = 2^e``
  from below, half the spacing below); in the subnormal range the float64 ulps are finer, so the
  test is stricter than needed there, never looser. Opposite signs, ``inf``, NaN (float32 NaN
  payloads as float64 have their 29 low bits zero) and wrap-around all give ``|difference| >=
  2^29``. ``s`` must be finite (checked). Rounding is monotone and every float32 midpoint (and the
  overflow threshold ``2^128 - 2^103``) is a float64, so ``q`` and ``s = fl64(q)`` lie on the same
  side of each: then ``x == fl32(q)``, bitwise up to the sign of zero. Every other element
  (and every element of a group whose ``s`` is not finite) is judged exactly with the Fraction
  reference and the spec's own bound by :func:`bridge.numerics.compare` — the verdict, counts and
  ulps are then those of the exact method. Each group costs the spec's evaluation plus four passes
  (a cast, a subtraction, ``aminmax`` and a sum) when nothing is off.
* A probe checks that this process converts float32 subnormals exactly (``torch.set_flush_denormal``
  would flush them); if not, the caller must use the numpy path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import torch

CHUNK = 1 << 17  # elements per group: a few float64 temporaries stay in the CPU caches
_WINDOW = 1 << 28  # float64 ulps in half a float32 spacing (normal range)


def subnormals_exact() -> bool:
    """Float32 subnormals survive float32→float64→float32 (no flush-to-zero / denormals-are-zero)."""
    t = torch.tensor([2.0**-140, -(2.0**-149)], dtype=torch.float32)
    d = t.double()
    return bool(d[0].item() == 2.0**-140 and d[1].item() == -(2.0**-149) and bool((d.float() == t).all()))


def off_mask(s: torch.Tensor, x: torch.Tensor) -> torch.Tensor | None:
    """None when every element of flat float64 ``s`` / float32 ``x`` passes the test of the module
    docstring, else the mask of the elements that do not (those need the exact judgement)."""
    d = s.view(torch.int64) - x.to(torch.float64).view(torch.int64)
    mn, mx = torch.aminmax(d)
    finite = math.isfinite(float(s.sum()))  # an overflowing sum only sends the group to the mask
    if finite and int(mn) > -_WINDOW and int(mx) < _WINDOW:
        return None
    return (d <= -_WINDOW) | (d >= _WINDOW) | ~torch.isfinite(s)


def groups(sizes: Sequence[int], chunk: int = CHUNK) -> Iterator[list[tuple[int, int, int]]]:
    """Partition of tensors' flat elements into groups of about ``chunk`` elements:
    lists of ``(tensor, start, stop)``; a large tensor is cut, small ones are grouped."""
    pending: list[tuple[int, int, int]] = []
    total = 0
    for i, n in enumerate(sizes):
        start = 0
        while n - start >= chunk:
            yield [(i, start, start + chunk)]
            start += chunk
        if n > start:
            pending.append((i, start, n))
            total += n - start
            if total >= chunk:
                yield pending
                pending, total = [], 0
    if pending:
        yield pending


def flat_slices(ts: Sequence[torch.Tensor], group: Sequence[tuple[int, int, int]]) -> torch.Tensor:
    """The group's elements of ``ts`` as one flat tensor (a view for a single slice)."""
    parts = [ts[i].detach().reshape(-1)[a:b] for i, a, b in group]
    return (parts[0] if len(parts) == 1 else torch.cat(parts)).to("cpu")


def suspects(runtime: Sequence[torch.Tensor], spec_f64: Callable[[list[tuple[int, int, int]]], torch.Tensor],
             chunk: int | None = None) -> dict[int, torch.Tensor]:
    """Per tensor, the flat indices that need the exact judgement (absent: all exact).
    ``spec_f64(group)`` is the spec's float64 value on the group's elements, flat, in group order."""
    found: dict[int, list[torch.Tensor]] = {}
    for group in groups([int(x.numel()) for x in runtime], chunk or CHUNK):
        s = spec_f64(group).reshape(-1)
        x = flat_slices(runtime, group)
        mask = off_mask(s, x)
        if mask is None:
            continue
        hit = torch.nonzero(mask).reshape(-1)
        off = 0
        for i, a, b in group:
            n = b - a
            sel = hit[(hit >= off) & (hit < off + n)]
            if sel.numel():
                found.setdefault(i, []).append(sel - off + a)
            off += n
    return {i: torch.cat(v).sort().values for i, v in found.items()}
