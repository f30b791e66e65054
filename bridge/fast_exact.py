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

Fused kernel (``torch.compile``). Eagerly, each group costs about eight passes over float64
temporaries (two conversions, the spec's ops, the test); bandwidth-bound, that is ~9x one SGD step.
:func:`fused_kernel` compiles the *same* computation — the generated reference traced by dynamo,
the float64 conversions and the window test — into one loop that reads each input once and
returns whether any element of a group is off. Inductor compiles C++ without unsafe math
(``-fno-unsafe-math-optimizations``, ``-ffp-contract=off``, finite math kept: IEEE float64 ops as
eagerly; tests/test_fast_exact.py checks both paths flag the same elements on edge values). A group
it flags is re-run eagerly to get the elements. Compiling costs seconds once per process (inductor
caches on disk), so ``auto`` mode — the default — compiles only after the process has checked
``COMPILE_AFTER`` elements eagerly (a multi-step run on a large model); ``on`` compiles at once,
``off`` never. Without a working compiler the eager path is used, with one warning.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

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
        _add_hits(found, runtime, spec_f64, group)
    return {i: torch.cat(v).sort().values for i, v in found.items()}


def _add_hits(found: dict[int, list[torch.Tensor]], runtime: Sequence[torch.Tensor],
              spec_f64: Callable[[list[tuple[int, int, int]]], torch.Tensor], group: list[tuple[int, int, int]]) -> None:
    """The eager test on one group: its off elements' flat indices, appended per tensor to ``found``."""
    mask = off_mask(spec_f64(group).reshape(-1), flat_slices(runtime, group))
    if mask is None:
        return
    hit = torch.nonzero(mask).reshape(-1)
    off = 0
    for i, a, b in group:
        sel = hit[(hit >= off) & (hit < off + b - a)]
        if sel.numel():
            found.setdefault(i, []).append(sel - off + a)
        off += b - a


# ------------------------------------------------------------------------- the fused kernel

COMPILE_MODES = ("auto", "on", "off")
COMPILE_AFTER = 1 << 26  # auto: eager elements (~0.3 s of eager checking) before compiling pays
FUSED_SMALL = 1 << 16  # tensors below this are packed together into one kernel call
FUSED_MIN = 1 << 10  # groups below this stay eager (and spare dynamo a size specialization)

_state: dict[str, Any] = {"mode": "auto", "eager": 0, "broken": ""}
_kernels: dict[Any, Callable[..., bool]] = {}


def set_compile(mode: str) -> None:
    """``auto`` (default), ``on`` or ``off``: when the fused kernel replaces the eager groups."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"compile mode must be one of {', '.join(COMPILE_MODES)}, not {mode!r}")
    _state["mode"] = mode


def use_fused(n: int) -> bool:
    """Whether a record with ``n`` fast-path elements goes through the fused kernel (counts the
    eager elements in ``auto`` mode)."""
    if _state["broken"] or _state["mode"] == "off":
        return False
    if _state["mode"] == "on" or _state["eager"] >= COMPILE_AFTER:
        return True
    _state["eager"] += n
    return False


def fused_kernel(key: Any, spec: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
                 ) -> Callable[..., bool]:
    """``any_off(p, g, x, lr)``: whether any element of flat float32 ``x`` fails the test of
    :func:`off_mask` against ``spec(p64, g64, lr)`` (the spec's float64 value), compiled once per
    ``key``. Same test, cheaper form: ``|d| < W`` as one unsigned comparison of ``d + W - 1``, and
    finiteness from the sum of ``s`` (an extra add per element, where ``isfinite`` cost ~50 %)."""
    if key not in _kernels:
        def window(p: torch.Tensor, g: torch.Tensor, x: torch.Tensor, lr: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
            s = spec(p.to(torch.float64), g.to(torch.float64), lr)
            d = s.view(torch.int64) - x.to(torch.float64).view(torch.int64)
            return ((d + (_WINDOW - 1)).view(torch.uint64) >= 2 * _WINDOW - 1).any(), s.sum()

        compiled = torch.compile(window, dynamic=True)

        def any_off(p: torch.Tensor, g: torch.Tensor, x: torch.Tensor, lr: torch.Tensor) -> bool:
            out, total = compiled(p, g, x, lr)
            return bool(out) or not math.isfinite(float(total))

        _kernels[key] = any_off
    return _kernels[key]


def fused_groups(sizes: Sequence[int], small: int = FUSED_SMALL) -> Iterator[list[tuple[int, int, int]]]:
    """Groups for the fused kernel: each tensor of ``small`` elements or more alone (a view, no
    copy); the smaller ones packed together up to 16 x ``small`` elements (one call, not one per bias)."""
    pending: list[tuple[int, int, int]] = []
    total = 0
    for i, n in enumerate(sizes):
        if n >= small:
            yield [(i, 0, n)]
        elif n:
            pending.append((i, 0, n))
            total += n
            if total >= 16 * small:
                yield pending
                pending, total = [], 0
    if pending:
        yield pending


def fused_suspects(runtime: Sequence[torch.Tensor], spec_f64: Callable[[list[tuple[int, int, int]]], torch.Tensor],
                   any_off: Callable[[list[tuple[int, int, int]]], bool]) -> dict[int, torch.Tensor] | None:
    """As :func:`suspects`, with ``any_off(group)`` (the fused kernel) deciding which groups need the
    eager test at all. None when the kernel cannot be compiled here (then use :func:`suspects`)."""
    found: dict[int, list[torch.Tensor]] = {}
    try:
        flagged = [g for g in fused_groups([int(x.numel()) for x in runtime])
                   if sum(b - a for _, a, b in g) < FUSED_MIN or any_off(g)]
    except Exception as exc:  # noqa: BLE001 - no C++ compiler, an unsupported op: fall back, say it once
        _state["broken"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        print(f"torchlean-bridge: the fused check kernel is unavailable ({_state['broken']}); "
              "checking eagerly (--compile off silences this)", file=sys.stderr)
        return None
    for group in flagged:  # small groups, or (rarely) off ones: the eager test finds the elements
        if sum(b - a for _, a, b in group) <= CHUNK:
            _add_hits(found, runtime, spec_f64, group)
            continue
        for i, a, b in group:  # a CHUNK at a time, as suspects() does
            for start in range(a, b, CHUNK):
                _add_hits(found, runtime, spec_f64, [(i, start, min(start + CHUNK, b))])
    return {i: torch.cat(v).sort().values for i, v in found.items()}
