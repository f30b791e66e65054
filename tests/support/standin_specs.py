"""TEST-ONLY stand-in for `bridge.reference` while the generator is being built.

It mirrors the fixture Lean definitions (tests/fixtures/torchlean/NN/...) operation by operation
over the real vocabulary (`bridge.vocab.prims`), so the checker's plumbing — domains, exact values,
bounds — is exercised exactly as with generated code. Production code never imports this module:
`bridge.check.GeneratedSpecs` loads the generated reference.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Any

from bridge.vocab import prims as P
from bridge.vocab.domains import Domain


def _pow(D: Domain, x: Any, n: int) -> Any:
    acc = D.scalar(1)
    for _ in range(n):
        acc = acc * x
    return acc


@dataclass
class MomentumState:
    buf: Any
    lr: Any = None
    μ: Any = None
    nesterov: bool = False


@dataclass
class AdamState:
    m: Any
    v: Any
    lr: Any = None
    β1: Any = None
    β2: Any = None
    ε: Any = None
    t: int = 0


@dataclass
class AdamWState(AdamState):
    wd: Any = None


def _direction(D: Domain, st: Any, m2: Any, v2: Any, t2: int) -> Any:
    s = D.shape_of(m2)
    m_hat = P.scale_spec(D, m2, D.div(D.scalar(1), D.scalar(1) - _pow(D, st.β1, t2)))
    v_hat = P.scale_spec(D, v2, D.div(D.scalar(1), D.scalar(1) - _pow(D, st.β2, t2)))
    rate = P.div_spec(D, P.fill(D, st.lr, s), P.add_spec(D, P.sqrt_spec(D, v_hat), P.fill(D, st.ε, s)))
    return P.mul_spec(D, rate, m_hat)


def _moments(D: Domain, st: Any, g: Any) -> tuple[Any, Any, int]:
    m2 = P.add_spec(D, P.scale_spec(D, st.m, st.β1), P.scale_spec(D, g, D.scalar(1) - st.β1))
    v2 = P.add_spec(D, P.scale_spec(D, st.v, st.β2), P.scale_spec(D, P.square_spec(D, g), D.scalar(1) - st.β2))
    return m2, v2, st.t + 1


def reference(full_name: str, D: Domain) -> Any:
    if full_name == "Proofs.Autograd.Algebra.SGD.step":
        return lambda ps, gs, lr: P.tlist_sub(D, ps, P.tlist_scale(D, lr, gs))
    if full_name == "Optim.SGD.update":
        return lambda lr, p, g: P.sub_spec(D, p, P.scale_spec(D, g, lr))
    if full_name == "Optim.MomentumSGD.update":
        def mom(st: Any, p: Any, g: Any) -> Any:
            buf2 = P.add_spec(D, P.scale_spec(D, st.buf, st.μ), g)
            d = P.add_spec(D, g, P.scale_spec(D, buf2, st.μ)) if st.nesterov else buf2
            return replace(st, buf=buf2), P.sub_spec(D, p, P.scale_spec(D, d, st.lr))
        return mom
    if full_name == "Optim.Adam.update":
        def adam(st: Any, p: Any, g: Any) -> Any:
            m2, v2, t2 = _moments(D, st, g)
            return replace(st, m=m2, v=v2, t=t2), P.sub_spec(D, p, _direction(D, st, m2, v2, t2))
        return adam
    if full_name == "Optim.AdamW.update":
        def adamw(st: Any, p: Any, g: Any) -> Any:
            m2, v2, t2 = _moments(D, st, g)
            decayed = P.sub_spec(D, p, P.scale_spec(D, p, st.lr * st.wd))
            return replace(st, m=m2, v=v2, t=t2), P.sub_spec(D, decayed, _direction(D, st, m2, v2, t2))
        return adamw
    raise KeyError(full_name)


class StandinSpecs:
    """A `bridge.check.SpecProvider` over the stand-in definitions above."""

    def reference(self, full_name: str, domain: Domain) -> Any:
        return reference(full_name, domain)

    def structure(self, full_name: str, domain: Domain) -> Any:
        return {"Optim.MomentumSGD.State": MomentumState, "Optim.Adam.State": AdamState,
                "Optim.AdamW.State": AdamWState}[full_name]


assert dataclasses.is_dataclass(AdamWState)
