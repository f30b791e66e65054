"""Bindings as data: which runtime implementation stands for which Lean spec, with what options.

`bridge/bindings.json` ships the torch.optim bindings; users pass their own file with the same
schema (`torchlean-bridge check --bindings FILE`). Validation errors are one line naming the file.

Spec calling conventions (`kind`), all taking the runtime's inputs converted to the spec domain:

- `tlist_step`: `spec(params, grads, lr) -> params` (e.g. `Proofs.Autograd.Algebra.SGD.step`).
- `tensor_update`: `spec(lr, p, g) -> p` per tensor (e.g. `Optim.SGD.update`).
- `stateful`: `spec(state, p, g) -> (state, p)` per tensor, with `state` the Lean structure
  `state` (built by `bridge.reference.structure`) whose fields come from `hyper` (Lean field ←
  runtime option), `buffers` (Lean field ← key of the runtime's per-parameter state, zero before
  the first step) and `counter` (a `Nat` field the spec advances itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_BINDINGS = Path(__file__).with_name("bindings.json")


class BindingError(Exception):
    """A bindings file that cannot be read or does not validate (one-line message)."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Implementation(_M):
    """One runtime variant: constructor options merged over the binding's `options`."""

    options: dict[str, Any] = Field(default_factory=dict)
    devices: list[str] = Field(default_factory=lambda: ["cpu", "cuda"])
    note: str = ""


class Binding(_M):
    name: str = Field(description="short id used on the command line (--binding)")
    spec: str = Field(description="full Lean name of the spec declaration")
    kind: Literal["tlist_step", "tensor_update", "stateful"]
    runtime: str = Field(description="dotted path of the runtime class, e.g. torch.optim.SGD")
    options: dict[str, Any] = Field(default_factory=dict)
    implementations: dict[str, Implementation]
    hyper: dict[str, str] = Field(default_factory=dict, description="Lean field <- runtime option (betas[0] ok)")
    buffers: dict[str, str] = Field(default_factory=dict, description="Lean field <- runtime state key")
    counter: str | None = Field(default=None, description="Nat step-count field the spec advances")
    state: str | None = Field(default=None, description="Lean structure of the state (kind=stateful)")
    steps: int = Field(default=3, ge=1, description="steps per case, state carried between them")
    lr_kinds: list[Literal["float", "tensor"]] = Field(default=["float", "tensor"])
    exact_method: Literal["fraction", "single-rounding-f64"] = Field(
        default="fraction",
        description=(
            "single-rounding-f64: the spec's float64 evaluation on inputs of a <=26-bit format is one "
            "rounding of the exact value (p - g*lr: the product of two such values is exact in float64)"
        ),
    )
    square_inputs: bool = Field(default=False, description="the spec squares inputs: keep |x| <= sqrt(max)")


class BindingsFile(_M):
    schema_version: Literal[1] = 1
    bindings: list[Binding]


def load_bindings(path: Path | None = None) -> list[Binding]:
    """The bindings of `path` (default: the shipped file)."""
    path = path or DEFAULT_BINDINGS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BindingError(f"{path}: no such bindings file") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BindingError(f"{path}: cannot read bindings: {exc}") from None
    try:
        f = BindingsFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise BindingError(f"{path}: invalid bindings at '{where}': {err['msg']}") from None
    names = [b.name for b in f.bindings]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise BindingError(f"{path}: duplicate binding names: {', '.join(sorted(dup))}")
    return f.bindings
