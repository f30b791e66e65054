"""`Proofs.Autograd.Algebra.Graph.scalarLoss_grad_correct` on torch: forward mode against reverse mode.

The theorem: for a graph whose last node is a scalar loss, with `seed = seedScalarLoss g x` (0 on
every context entry, 1 on the loss), `dotList (jvpCtx g x dx d) seed = dotList dx (backpropCtx g x d
seed)`: the directional derivative of the loss along `dx` equals `⟨dx, reverse-mode gradient⟩`.
On torch the left side is forward mode (`torch.autograd.forward_ad`: one forward pass with every
parameter a dual tensor whose tangent is a random direction `dx`); the right side is
`loss.backward()` on that pass's primal loss (the seed 1 at the scalar loss) followed by
`Σ_p ⟨dx_p, p.grad⟩`. Both are computed in the runtime dtype; the tolerance is derived in
docs/VERDICTS.md ("Autograd rows") from the models' depth and reduction lengths, never tuned.

Separately, `graph_reference_row` evaluates the *generated* references of `Graph.jvpCtx`,
`Graph.backpropCtx` and `Graph.seedScalarLoss` exactly (FractionDomain) on a small graph they can
express, checks the theorem's two sides agree exactly there, and measures torch's forward and
reverse mode on the same function against that exact value.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import torch
import torch.autograd.forward_ad as fwAD
from torch import nn
from torch.func import jvp
from torch.overrides import TorchFunctionMode

from bridge.numerics import format_of

SPEC = "Proofs.Autograd.Algebra.Graph.scalarLoss_grad_correct"
IMPL = "jvp-vs-backward"
ModelFactory = Callable[[], tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]]


# ----------------------------------------------------------------------------------- the models


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mlp_mse() -> tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]:
    """Two-layer MLP (8 -> 16 -> 4, tanh) with mean-squared error on a batch of 6."""
    torch.manual_seed(11)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    g = _gen(12)
    x, y = torch.randn(6, 8, generator=g), torch.randn(6, 4, generator=g)
    return model, (x,), lambda out: nn.functional.mse_loss(out, y.to(out))


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).flatten(1))  # type: ignore[no-any-return]


def conv_ce() -> tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]:
    """Conv (2 -> 4 channels, 3x3) + ReLU + linear to 5 classes, cross-entropy on a batch of 3."""
    torch.manual_seed(21)
    model = ConvNet()
    g = _gen(22)
    x, y = torch.randn(3, 2, 6, 6, generator=g), torch.randint(0, 5, (3,), generator=g)
    return model, (x,), lambda out: nn.functional.cross_entropy(out, y.to(out.device))


class Block(nn.Module):
    """Pre-norm transformer block: LayerNorm, 2-head self-attention written out (softmax(QKᵀ/√d)V:
    torch's fused scaled_dot_product_attention has no forward-mode AD on CPU in torch 2.13), a residual,
    LayerNorm, a GELU MLP and a residual."""

    def __init__(self, d: int = 16, heads: int = 2, hidden: int = 32) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.ln2(x))  # type: ignore[no-any-return]


def transformer_block() -> tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]:
    torch.manual_seed(31)
    model = Block()
    g = _gen(32)
    x, y = torch.randn(2, 4, 16, generator=g), torch.randn(2, 4, 16, generator=g)
    return model, (x,), lambda out: nn.functional.mse_loss(out, y.to(out))


class Shared(nn.Module):
    """One weight used twice: `W·tanh(W·x + b)`; its gradient is the sum of both uses."""

    def __init__(self, n: int = 8) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, n) / math.sqrt(n))
        self.b = nn.Parameter(torch.randn(n) / 4)

    def first(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.w.T + self.b)

    def second(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.w.T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


def shared_param() -> tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]:
    torch.manual_seed(41)
    model = Shared()
    g = _gen(42)
    x, y = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    return model, (x,), lambda out: nn.functional.mse_loss(out, y.to(out))


MODELS: dict[str, ModelFactory] = {
    "autograd/mlp-mse": mlp_mse,
    "autograd/conv-ce": conv_ce,
    "autograd/transformer-block": transformer_block,
    "autograd/shared-param": shared_param,
}


# --------------------------------------------------------------------------- the measurement


@dataclass
class Measurement:
    jvp: float  # ⟨J·dx, seed⟩ by forward mode, in the runtime dtype (exactly as a float64)
    rev: float  # Σ ⟨dx_p, p.grad⟩, products and sum in float64 from the runtime dtype's values
    dx_norm: float
    g_norm: float
    depth: int  # nodes on the longest path of the autograd graph
    k: int  # longest reduction any op of the model can perform (see reduction_length)
    n: int  # parameters' elements (terms of the float64 inner product)
    fmt_u: float

    @property
    def c(self) -> float:
        """Error constant: 2·depth·(k + 2) — two computations (jvp and backward), each a chain of at
        most `depth` nodes, each node at most a reduction of length k plus two elementwise roundings."""
        return 2.0 * self.depth * (self.k + 2)

    @property
    def scale(self) -> float:
        return self.dx_norm * self.g_norm + abs(self.jvp)

    @property
    def bound(self) -> float:
        """c·u·(‖dx‖·‖g‖ + |jvp|) plus the float64 inner product's own error n·2^-53·‖dx‖‖g‖."""
        cu = self.c * self.fmt_u
        return cu * self.scale + self.n * 2.0**-53 * self.dx_norm * self.g_norm

    @property
    def diff(self) -> float:
        return abs(self.jvp - self.rev)


def _depth(loss: torch.Tensor, transparent: frozenset[Any] = frozenset()) -> int:
    """Longest path (in backward nodes) from the loss to a leaf of the autograd graph. Nodes in
    `transparent` (the aliases `measure` itself adds: make_dual's view of each parameter, the
    unpacked primal loss) are not counted, so the depth is the model's own, as in a plain forward."""
    memo: dict[Any, int] = {}

    def walk(fn: Any) -> int:
        if fn is None:
            return 0
        if fn in memo:
            return memo[fn]
        memo[fn] = 1  # guards against cycles (there are none in an autograd graph)
        own = 0 if fn in transparent else 1
        memo[fn] = own + max((walk(nxt) for nxt, _ in fn.next_functions), default=0)
        return memo[fn]

    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        return walk(loss.grad_fn)
    finally:
        sys.setrecursionlimit(old)


def reduction_length(params: Mapping[str, torch.Tensor], inputs: tuple[Any, ...], out: Any) -> int:
    """An upper bound on the length of any sum the model computes: the fan-in of every weight
    (elements per output row: `numel / shape[0]`, e.g. in·kh·kw for a conv kernel), the length of
    every 1-d parameter (a normalisation over that many features), every dimension of every input
    (attention sums over the sequence, softmax over classes), and the number of elements of the
    model output (a mean loss sums them all)."""
    k = 1
    for p in params.values():
        if p.dim() >= 2:
            k = max(k, p.numel() // max(p.shape[0], 1))
        elif p.dim() == 1:
            k = max(k, p.numel())
    for x in inputs:
        if isinstance(x, torch.Tensor):
            k = max(k, *x.shape) if x.dim() else k
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if isinstance(o, torch.Tensor):
            k = max(k, o.numel())
    return int(k)


def _cast(x: Any, dtype: torch.dtype, device: str) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(device, dtype) if x.is_floating_point() else x.to(device)
    return x


@contextmanager
def _parameters_replaced(mods: list[nn.Module], by_param: dict[int, torch.Tensor]) -> Iterator[None]:
    """Every slot of the modules `mods` holding a parameter `p` holds `by_param[id(p)]` instead, for the duration
    (torch.func.functional_call does the same with more bookkeeping, ~0.2 ms a call on a small
    model). A tied parameter is replaced wherever it occurs. A slot this misses would keep its
    primal parameter: its use would lack the tangent but keep the gradient — a false violation,
    never a hidden one."""
    saved: list[tuple[nn.Module, str, Any]] = []
    try:
        for mod in mods:
            slots = mod._parameters
            for name, p in slots.items():
                if p is not None and id(p) in by_param:
                    saved.append((mod, name, p))
                    slots[name] = by_param[id(p)]  # type: ignore[assignment]
        yield
    finally:
        for mod, name, p in reversed(saved):
            mod._parameters[name] = p


_T, _aten = torch.Tensor, torch.ops.aten
_SCALAR_OVERLOADS: dict[Any, Any] = {
    **dict.fromkeys((_T.__mul__, _T.__rmul__, _T.mul, torch.mul), _aten.mul.Scalar),
    **dict.fromkeys((_T.__truediv__, _T.div, torch.div, torch.true_divide), _aten.div.Scalar),
    **dict.fromkeys((_T.__add__, _T.__radd__, _T.add, torch.add), _aten.add.Scalar),
    **dict.fromkeys((_T.__sub__, _T.sub, torch.sub), _aten.sub.Scalar),
    _T.__rsub__: _aten.rsub.Scalar,
}


class _ScalarOverloads(TorchFunctionMode):
    """During the dual forward, `tensor ∘ python number` (∘ in * / + -) calls the op's `.Scalar`
    overload. The default `.Tensor` overload wraps the number in a tensor without a tangent, and
    torch 2.13's forward-mode formula then builds a lazy zero tangent (ZeroTensor) for it, whose
    shape inference runs through Python reference implementations: ~0.5 ms per such op on CPU
    (a transformer's `scores / sqrt(d)` alone doubled the cost of the dual forward). The `.Scalar`
    overloads compute the same primal values (they wrap the number the same way) with the
    formula `self_t ∘ other`; tests/test_autograd_check.py checks values and gradients bitwise."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        if not kwargs and len(args) == 2 and type(args[1]) in (int, float) and isinstance(args[0], torch.Tensor) \
                and args[0].is_floating_point():
            op = _SCALAR_OVERLOADS.get(func)
            if op is not None:
                return op(args[0], args[1])
        return func(*args, **(kwargs or {}))


_NORMS = (nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.modules.batchnorm._NormBase)


def _needs_move(mods: list[nn.Module], dt: torch.dtype, device: str) -> bool:
    """Whether `model.to(device, dt)` would change any tensor of the modules `mods` (it walks every
    module: skip it when not)."""
    dev = torch.device(device)
    for m in mods:
        for t in (*m._parameters.values(), *m._buffers.values()):
            if t is not None and (t.device != dev or (t.is_floating_point() and t.dtype != dt)):
                return True
    return False


def _parameters_of(mods: list[nn.Module]) -> dict[str, torch.Tensor]:
    """The parameters of the modules `mods` (as `model.modules()` lists them), a shared one once, in
    `named_parameters` order, keyed by position (one walk of the modules instead of several)."""
    seen: dict[int, torch.Tensor] = {}
    for m in mods:
        for p in m._parameters.values():
            if p is not None and id(p) not in seen:
                seen[id(p)] = p
    return {str(i): p for i, p in enumerate(seen.values())}


def _direction(params: Mapping[str, torch.Tensor], dt: torch.dtype, device: str, seed: int) -> dict[str, torch.Tensor]:
    """A random direction over all parameters, in the runtime dtype, one contiguous tensor per
    parameter (so `make_dual` takes it as the tangent without a copy).

    A parameter of shape (r, c, ...) with r and c·… both >= 16 gets the entries of a rank-4 product
    ``(A @ B) / 2`` of standard normal A (r×4) and B (4×c…): entries of variance 1, about
    4·(r + c) draws instead of r·c (torch's CPU generator is serial: one normal draw per entry cost
    more than the model's forward and backward pass for a 512-wide MLP). Nothing is lost for the
    check: for a fixed gradient error E ≠ 0, ⟨dx, E⟩ = tr(Aᵀ E Bᵀ)/2 is a nonzero polynomial in the
    Gaussian entries, so it is 0 with probability 0, and its variance is ‖E‖², as for an i.i.d.
    normal direction. Smaller parameters get i.i.d. normal entries. Drawn in float32 (float64 for a
    float64 model) and rounded for narrower formats."""
    g = torch.Generator().manual_seed(seed * 7919 + 1)
    draw = torch.float64 if dt == torch.float64 else torch.float32
    out = {}
    for k, v in params.items():
        rows = v.shape[0] if v.dim() else 1
        cols = v.numel() // max(rows, 1)
        if rows >= 16 and cols >= 16:
            a = torch.randn(rows, 4, generator=g, dtype=draw)
            b = torch.randn(4, cols, generator=g, dtype=draw)
            d = torch.mm(a, b).mul_(0.5).view(v.shape)
        else:
            d = torch.randn(v.shape, generator=g, dtype=draw)
        out[k] = d if d.dtype == dt and d.device == torch.device(device) else d.to(device, dt)
    return out


def _inner_products(dx: dict[str, torch.Tensor], grads: dict[str, torch.Tensor | None]) -> tuple[float, float, float]:
    """`(⟨dx, g⟩, ‖dx‖², ‖g‖²)` over all parameters: each product exact in float64 (a product of two
    runtime-dtype values fits in float64's 53 bits), summed in float64 — in some order, within
    n·2^-53 whatever the order. Small parameter lists are flattened into one float64 vector each;
    large ones go per parameter (a float64 copy of one parameter stays in cache: one copy of all
    0.5 M of them took longer than the model's backward pass)."""
    ds = [d.detach().reshape(-1) for d in dx.values()]
    gs = [torch.zeros_like(d) if g is None else g.detach().reshape(-1) for d, g in zip(ds, grads.values())]
    if not ds:
        return 0.0, 0.0, 0.0
    if sum(d.numel() for d in ds) <= 1 << 16:
        ds, gs = [torch.cat(ds)], [torch.cat(gs)]
    acc = []
    scratch = torch.empty(2, max(d.numel() for d in ds), dtype=torch.float64)  # reused: no fresh pages
    for d, g in zip(ds, gs):
        d64, g64 = scratch[0, :d.numel()].copy_(d), scratch[1, :g.numel()].copy_(g)
        acc.append(torch.stack([torch.dot(d64, g64), torch.dot(d64, d64), torch.dot(g64, g64)]))
    rev, dn, gn = (acc[0] if len(acc) == 1 else torch.stack(acc).sum(0)).tolist()
    return float(rev), float(dn), float(gn)


def measure(model: nn.Module, inputs: tuple[Any, ...], loss_fn: Callable[[Any], torch.Tensor],
            dtype: str, device: str = "cpu", seed: int = 0) -> Measurement:
    """Forward mode and reverse mode of the scalar loss along one random parameter direction.

    One forward pass with `torch.autograd.forward_ad` dual parameters (primal θ requiring grad,
    tangent dx) gives the loss and its forward-mode tangent ⟨J·dx, seed⟩; `loss.backward()` on that
    primal loss is reverse mode through the same primal graph (the dual forward records the primal
    operations exactly as a plain forward does; the gradients are bitwise those of a plain
    forward+backward, tests/test_autograd_check.py). In a model with normalisation layers the
    floating-point inputs carry an explicit zero tangent: without one, torch 2.13 builds lazy zero
    tangents (ZeroTensor) in jvp formulas whose operand has none, and their shape computation runs in
    Python (layer_norm of an input without tangent: ~0.9 ms instead of ~0.14 ms; `x + f(x)` likewise).
    A zero tangent adds exact zeros: the directional derivative is the same function of dx. Elsewhere
    it is left out (it would cost the first layer one more matmul). `tensor ∘ number` avoids the same
    trap through `_ScalarOverloads`."""
    dt = getattr(torch, dtype)
    mods = list(model.modules())
    if _needs_move(mods, dt, device):
        model.to(device, dt)  # in place: the module objects stay
    xs = tuple(_cast(x, dt, device) for x in inputs)
    named = _parameters_of(mods)
    dx = _direction(named, dt, device, seed)
    for p in named.values():
        p.grad = None
    with fwAD.dual_level():
        duals = {k: fwAD.make_dual(p, dx[k]) for k, p in named.items()}
        zero_t = any(isinstance(m, _NORMS) for m in mods)
        xd = tuple(fwAD.make_dual(x, torch.zeros_like(x)) if zero_t and isinstance(x, torch.Tensor)
                   and x.is_floating_point() else x for x in xs)
        with _ScalarOverloads():
            with _parameters_replaced(mods, {id(p): duals[k] for k, p in named.items()}):
                out = model(*xd)
            dual_loss = loss_fn(out)
        loss, tangent = fwAD.unpack_dual(dual_loss)
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
        if tangent is None:  # the loss does not depend on the parameters at all
            tangent = torch.zeros_like(loss)
        tangent = tangent.detach()
    added = [d.grad_fn for d in duals.values()]  # make_dual's views of the parameters
    if loss.grad_fn is not dual_loss.grad_fn:  # unpack_dual's alias of the loss
        added.append(loss.grad_fn)
    depth = _depth(loss, frozenset(added))
    loss.backward()
    rev, dn, gn = _inner_products(dx, {k: named[k].grad for k in dx})
    return Measurement(float(tangent.to("cpu", torch.float64)), rev, math.sqrt(dn), math.sqrt(gn),
                       depth, reduction_length(named, xs, out), sum(p.numel() for p in named.values()),
                       format_of(dt).u)


def verdict_of(m: Measurement) -> str:
    if not (math.isfinite(m.jvp) and math.isfinite(m.rev) and math.isfinite(m.bound)):
        return "violation"
    if m.jvp == m.rev:
        return "exact"
    return "rounding" if m.diff <= m.bound else "violation"


def check_model(factory: ModelFactory, device: str, dtype: str, seed: int = 0, name: str = "",
                cases: int = 1, mutant: str = "") -> Any:
    """One check-table row for `factory() -> (model, inputs, loss_fn)` (never raises for model failures).
    `max_ulp` holds the largest |jvp − ⟨dx, g⟩| in units of u·(‖dx‖‖g‖ + |jvp|), to compare with c."""
    from bridge.check import Row

    t0 = time.perf_counter()
    label = name or getattr(factory, "__module__", "") + ":" + getattr(factory, "__name__", "model")
    row = Row(label if label.startswith("autograd/") else f"autograd/{label}", SPEC, IMPL, device, dtype, "-",
              "exact", mutant=mutant)
    verdicts: list[str] = []
    try:
        for ci in range(cases):
            model, inputs, loss_fn = factory()
            m = measure(model, tuple(inputs), loss_fn, dtype, device, seed * 1000 + ci)
            v = verdict_of(m)
            verdicts.append(v)
            units = m.diff / (m.fmt_u * m.scale) if m.scale > 0 else (0.0 if m.diff == 0 else math.inf)
            row.max_ulp = max(row.max_ulp, units if math.isfinite(units) else math.inf)
            row.cases += 1
            row.steps += 1
            row.elements += m.n
            if v != "exact" and (not row.first or (v == "violation" and row.first.get("verdict") != "violation")):
                row.first = {"verdict": v, "case": ci, "seed": seed, "jvp": m.jvp, "dx_dot_grad": m.rev,
                             "diff": m.diff, "bound": m.bound, "c": m.c, "u": m.fmt_u, "depth": m.depth,
                             "k": m.k, "dx_norm": m.dx_norm, "grad_norm": m.g_norm}
            if v == "violation":
                break
    except Exception as exc:  # noqa: BLE001 - a model the runtime cannot differentiate is an error row
        row.verdict, row.error = "error", f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if row.verdict != "error":
        row.verdict = max(verdicts, key=["exact", "rounding", "violation"].index, default="exact")
        row.share_off = sum(v != "exact" for v in verdicts) / max(len(verdicts), 1)
    row.seconds = time.perf_counter() - t0
    return row


# ------------------------------------------------------------------------------------- mutants


class _HalfGradLinear(torch.autograd.Function):
    """`x·Wᵀ + b` with a correct forward-mode rule and a backward that returns half the gradient."""

    @staticmethod
    def forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return x @ w.T + b

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        x, w, _ = inputs
        ctx.save_for_backward(x, w)
        ctx.save_for_forward(x, w)

    @staticmethod
    def backward(ctx: Any, go: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, w = ctx.saved_tensors
        return (go @ w) / 2, (go.T @ x) / 2, go.sum(0) / 2

    @staticmethod
    def jvp(ctx: Any, dx: Any, dw: Any, db: Any) -> torch.Tensor:
        x, w = ctx.saved_tensors
        out = torch.zeros(x.shape[0], w.shape[0], dtype=x.dtype, device=x.device)
        if dx is not None:
            out = out + dx @ w.T
        if dw is not None:
            out = out + x @ dw.T
        if db is not None:
            out = out + db
        return out


class _SecondUseNoWeightGrad(torch.autograd.Function):
    """`h·Wᵀ` whose backward passes the input's gradient but drops W's (the second use's share)."""

    @staticmethod
    def forward(h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return h @ w.T

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        h, w = inputs
        ctx.save_for_backward(h, w)
        ctx.save_for_forward(h, w)

    @staticmethod
    def backward(ctx: Any, go: torch.Tensor) -> tuple[torch.Tensor, None]:
        _, w = ctx.saved_tensors
        return go @ w, None

    @staticmethod
    def jvp(ctx: Any, dh: Any, dw: Any) -> torch.Tensor:
        h, w = ctx.saved_tensors
        out = torch.zeros(h.shape[0], w.shape[0], dtype=h.dtype, device=h.device)
        if dh is not None:
            out = out + dh @ w.T
        if dw is not None:
            out = out + h @ dw.T
        return out


class _HalfGradMLP(nn.Module):
    def __init__(self, inner: nn.Sequential) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first: nn.Linear = self.inner[0]  # type: ignore[assignment]
        return self.inner[2](self.inner[1](_HalfGradLinear.apply(x, first.weight, first.bias)))  # type: ignore[no-any-return]


class _DropSecondUse(Shared):
    def second(self, h: torch.Tensor) -> torch.Tensor:
        return _SecondUseNoWeightGrad.apply(h, self.w)  # type: ignore[no-any-return]


def mutant_half_gradient() -> tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]:
    """mlp-mse whose first layer is a custom autograd.Function returning half the true gradient."""
    model, inputs, loss_fn = mlp_mse()
    return _HalfGradMLP(model), inputs, loss_fn  # type: ignore[arg-type]


def mutant_drop_second_use() -> tuple[nn.Module, tuple[Any, ...], Callable[[Any], torch.Tensor]]:
    """shared-param whose second use of W contributes nothing to W's gradient."""
    model, inputs, loss_fn = shared_param()
    bad = _DropSecondUse()
    bad.load_state_dict(model.state_dict())
    return bad, inputs, loss_fn


# (mutant name, the row it mutates, factory)
AUTOGRAD_MUTANTS: tuple[tuple[str, str, ModelFactory], ...] = (
    ("half-gradient", "autograd/mlp-mse", mutant_half_gradient),
    ("drop-second-use", "autograd/shared-param", mutant_drop_second_use),
)


# ----------------------------------------------------- the generated reference on a small graph


def _node(struct: Any, forward: Callable[..., Any], jvp_: Callable[..., Any], vjp: Callable[..., Any]) -> Any:
    return struct(forward=forward, jvp=jvp_, vjp=vjp, adjoint=None)


def small_graph(D: Any, node_struct: Any) -> tuple[Any, list[tuple[int, ...]]]:
    """A `Graph Δ Γ ss` value over domain D, Γ = [w1 (3,), w2 (3,)], side data d = (x (3,), t scalar):

        h = w1 ⊙ x;  a = h ⊙ h;  o = ⟨w2, a⟩ + ⟨w1, a⟩;  loss = (o − t)·(o − t)

    (w1 is used twice). Each node's vjp returns a cotangent for the whole context so far, as in
    TorchLean's `Node`. Returns the graph and `ss` (the node shapes before the loss)."""
    from bridge.vocab import prims as P
    from bridge.vocab.runtime import ctor

    def z(ctx: list[Any]) -> list[Any]:
        return [D.full(D.shape_of(c), 0) for c in ctx]

    def n_h() -> Any:
        def fwd(ctx: list[Any], d: Any) -> Any:
            return P.mul_spec(D, ctx[0], d[0])

        def jv(ctx: list[Any], dctx: list[Any], d: Any) -> Any:
            return P.mul_spec(D, dctx[0], d[0])

        def vj(ctx: list[Any], d: Any, delta: Any) -> list[Any]:
            out = z(ctx)
            out[0] = P.mul_spec(D, delta, d[0])
            return out
        return _node(node_struct, fwd, jv, vj)

    def n_a() -> Any:
        def fwd(ctx: list[Any], d: Any) -> Any:
            return P.mul_spec(D, ctx[2], ctx[2])

        def jv(ctx: list[Any], dctx: list[Any], d: Any) -> Any:
            return P.add_spec(D, P.mul_spec(D, dctx[2], ctx[2]), P.mul_spec(D, ctx[2], dctx[2]))

        def vj(ctx: list[Any], d: Any, delta: Any) -> list[Any]:
            out = z(ctx)
            out[2] = P.add_spec(D, P.mul_spec(D, delta, ctx[2]), P.mul_spec(D, delta, ctx[2]))
            return out
        return _node(node_struct, fwd, jv, vj)

    def n_o() -> Any:
        def fwd(ctx: list[Any], d: Any) -> Any:
            return P.tensor_scalar(D, P.dot(D, ctx[1], ctx[3]) + P.dot(D, ctx[0], ctx[3]))

        def jv(ctx: list[Any], dctx: list[Any], d: Any) -> Any:
            s = (P.dot(D, dctx[1], ctx[3]) + P.dot(D, ctx[1], dctx[3])
                 + P.dot(D, dctx[0], ctx[3]) + P.dot(D, ctx[0], dctx[3]))
            return P.tensor_scalar(D, s)

        def vj(ctx: list[Any], d: Any, delta: Any) -> list[Any]:
            out = z(ctx)
            s = D.scalar(delta)
            out[0] = P.scale_spec(D, ctx[3], s)
            out[1] = P.scale_spec(D, ctx[3], s)
            out[3] = P.scale_spec(D, P.add_spec(D, ctx[0], ctx[1]), s)
            return out
        return _node(node_struct, fwd, jv, vj)

    def n_loss() -> Any:
        def fwd(ctx: list[Any], d: Any) -> Any:
            r = D.scalar(ctx[4]) - d[1]
            return P.tensor_scalar(D, r * r)

        def jv(ctx: list[Any], dctx: list[Any], d: Any) -> Any:
            r = D.scalar(ctx[4]) - d[1]
            return P.tensor_scalar(D, (r + r) * D.scalar(dctx[4]))

        def vj(ctx: list[Any], d: Any, delta: Any) -> list[Any]:
            out = z(ctx)
            r = D.scalar(ctx[4]) - d[1]
            out[4] = P.tensor_scalar(D, (r + r) * D.scalar(delta))
            return out
        return _node(node_struct, fwd, jv, vj)

    g: Any = ctor("nil")
    for node in (n_h(), n_a(), n_o(), n_loss()):
        g = ctor("snoc", g, node)
    return g, [(3,), (3,), ()]


def _torch_small(w1: torch.Tensor, w2: torch.Tensor, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The same function in torch, operation for operation."""
    h = w1 * x
    a = h * h
    o = (w2 * a).sum() + (w1 * a).sum()
    return (o - t) * (o - t)


def graph_reference_row(specs: Any, dtype: str, seed: int = 0) -> Any:
    """Row `autograd/graph-reference`: the generated jvpCtx/backpropCtx/seedScalarLoss evaluated
    exactly on `small_graph`; their two sides must agree exactly, and torch's forward and reverse mode
    on the same function must each lie within the derived bound of that exact value."""
    from bridge.check import Row
    from bridge.vocab.domains import FractionDomain

    t0 = time.perf_counter()
    row = Row("autograd/graph-reference", SPEC, "jvp,backward-vs-generated", "cpu", dtype, "-", "exact")
    D = FractionDomain()
    try:
        jvp_ctx = specs.reference("Proofs.Autograd.Algebra.Graph.jvpCtx", D)
        back = specs.reference("Proofs.Autograd.Algebra.Graph.backpropCtx", D)
        seed_fn = specs.reference("Proofs.Autograd.Algebra.Graph.seedScalarLoss", D)
        dot_list = specs.reference("Proofs.Autograd.Algebra.TList.dotList", D)
        node_struct = specs.structure("Proofs.Autograd.Algebra.Node", D)
    except Exception as exc:  # noqa: BLE001 - any lookup failure means: no generated Graph reference here
        row.verdict, row.error = "error", f"ReferenceUnavailable: {exc}".splitlines()[0][:300]
        row.seconds = time.perf_counter() - t0
        return row
    try:
        dt = getattr(torch, dtype)
        gen = torch.Generator().manual_seed(seed * 31 + 5)
        w1, w2, x, dw1, dw2 = (torch.randn(3, generator=gen, dtype=torch.float64).to(dt) for _ in range(5))
        tt = torch.randn((), generator=gen, dtype=torch.float64).to(dt)
        graph, ss = small_graph(D, node_struct)
        xs = [D.tensor(w1), D.tensor(w2)]
        dxs = [D.tensor(dw1), D.tensor(dw2)]
        d = (D.tensor(x), D.scalar(tt))
        seed_t = seed_fn(graph, xs, ss=ss)
        lhs = Fraction(dot_list(jvp_ctx(graph, xs, dxs, d), seed_t))
        rhs = Fraction(dot_list(dxs, back(graph, xs, d, seed_t)))
        row.elements, row.cases, row.steps = 6, 1, 1
        if lhs != rhs:
            row.verdict = "violation"
            row.first = {"note": "the generated reference breaks the theorem on this graph", "lhs": str(lhs),
                         "rhs": str(rhs)}
            return row
        # torch in the runtime dtype against the exact directional derivative
        tangent = jvp(lambda a, b: _torch_small(a, b, x, tt), (w1, w2), (dw1, dw2))[1]
        a, b = w1.clone().requires_grad_(), w2.clone().requires_grad_()
        loss = _torch_small(a, b, x, tt)
        depth = _depth(loss)
        loss.backward()
        assert a.grad is not None and b.grad is not None
        rev = Fraction(float((dw1.double() * a.grad.double()).sum() + (dw2.double() * b.grad.double()).sum()))
        fj = Fraction(float(tangent.double()))
        gnorm = math.sqrt(float(a.grad.double().square().sum() + b.grad.double().square().sum()))
        dnorm = math.sqrt(float(dw1.double().square().sum() + dw2.double().square().sum()))
        m = Measurement(float(fj), float(rev), dnorm, gnorm, depth, 3, 6, format_of(dt).u)
        # each side alone carries at most half the two-sided constant
        half = m.bound / 2
        errs = {"jvp": abs(fj - lhs), "backward": abs(rev - lhs)}
        worst = max(errs.values())
        row.max_ulp = float(worst) / (m.fmt_u * m.scale) if m.scale else 0.0
        bad = [k for k, e in errs.items() if float(e) > half]
        row.verdict = "violation" if bad else ("exact" if worst == 0 else "rounding")
        if row.verdict != "exact":
            row.first = {"verdict": row.verdict, "exact": str(lhs), "exact_float": float(lhs), "jvp": float(fj),
                         "dx_dot_grad": float(rev), "bound_each": half, "c": m.c, "off": bad}
    except Exception as exc:  # noqa: BLE001 - a missing reference is reported plainly, not a crash
        row.verdict, row.error = "error", f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    finally:
        row.seconds = time.perf_counter() - t0
    return row
