"""Version 2 of the torchlean fixture tree, as a small patch over version 1.

v1 is `tests/fixtures/torchlean` (pinned by other tests, never modified). `make_v2` copies it
and applies `EDITS`: each edit replaces one exact snippet (it must occur exactly once, so a
change to v1 breaks this loudly instead of silently). All text is our own Lean. The edits
exercise every kind of change the diff reports; `EXPECTED` lists them, one entry each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

V1 = Path(__file__).resolve().parent.parent / "fixtures" / "torchlean"

_FILL_V1 = """/-- The tensor of shape `s` with every entry equal to `v`. -/
def fill (v : α) : (s : Shape) → Tensor α s
  | .scalar => .scalar v
  | .dim _ s => .dim (fun _ => fill v s)

@[simp] theorem fill_scalar (v : α) : fill v .scalar = .scalar v := rfl

@[simp] theorem fill_dim (v : α) (n : Nat) (s : Shape) :
    fill v (.dim n s) = .dim (fun _ => fill v s) := rfl

namespace Tensor

/-- Read the value out of a rank-zero tensor. -/
def toScalar : Tensor α .scalar → α
  | .scalar a => a
"""
# generation 2: `Spec.fill v s` became `Tensor.full s v` (renamed, moved into `Tensor`, arguments
# swapped), and `eq_scalar_toScalar` now sits right after `toScalar` (moved)
_FULL_V2 = """namespace Tensor

/-- The tensor of shape `s` with every entry equal to `v`. -/
def full : (s : Shape) → α → Tensor α s
  | .scalar, v => .scalar v
  | .dim _ s, v => .dim (fun _ => full s v)

@[simp] theorem full_scalar (v : α) : full .scalar v = .scalar v := rfl

@[simp] theorem full_dim (v : α) (n : Nat) (s : Shape) :
    full (.dim n s) v = .dim (fun _ => full s v) := rfl

/-- Read the value out of a rank-zero tensor. -/
def toScalar : Tensor α .scalar → α
  | .scalar a => a

/-- A rank-zero tensor is determined by its value. -/
theorem eq_scalar_toScalar (t : Tensor α .scalar) : t = .scalar t.toScalar := by
  cases t
  rfl
"""

_INIT_V2 = """/- Fixture file (version 2 overlay) for torchlean-bridge tests. Written by the torchlean-bridge
authors to mirror the shape of an API; it is not taken from any upstream project. -/
module

public import NN.Spec.Core.Tensor

/-!
# Initial values

Tensors to start training from.
-/

namespace Spec.Tensor

variable {α : Type}

/-- The all-zero tensor of shape `s`. -/
def zeros [Zero α] (s : Shape) : Tensor α s := full s 0

end Spec.Tensor
"""

_CLAMP = """/-- A scalar clamped from below at zero. -/
def clampNonneg {α : Type} [Max α] [Zero α] (x : α) : α := max x 0
"""

# (path, old snippet, new snippet); old None: a new file
EDITS: list[tuple[str, str | None, str]] = [
    ("lean-toolchain", "leanprover/lean4:v4.29.0", "leanprover/lean4:v4.34.0"),
    (
        "NN/Spec/Core/Tensor.lean",
        """
/-- A rank-zero tensor is determined by its value. -/
theorem eq_scalar_toScalar (t : Tensor α .scalar) : t = .scalar t.toScalar := by
  cases t
  rfl
""",
        "",
    ),
    ("NN/Spec/Core/Tensor.lean", _FILL_V1, _FULL_V2),
    # doc only
    ("NN/Spec/Core/Tensor.lean", "/-- The `i`-th sub-tensor along the outermost dimension. -/",
     "/-- The sub-tensor at index `i` of the outermost dimension. -/"),
    # layout and a comment only: not a change
    ("NN/Spec/Core/Tensor.lean",
     "def ofFn {n : Nat} {s : Shape} (f : Fin n → Tensor α s) : Tensor α (.dim n s) := .dim f",
     ("def ofFn {n : Nat} {s : Shape} (f : Fin n → Tensor α s) :\n    Tensor α (.dim n s) :=\n"
      "  .dim f -- one child per index")),
    # attributes changed
    ("NN/Spec/Core/Shape.lean", "theorem size_scalar :", "@[simp] theorem size_scalar :"),
    # removed
    ("NN/Spec/Core/Shape.lean", """theorem rank_eq_length_dims (s : Shape) : s.rank = s.dims.length := by
  induction s with
  | scalar => rfl
  | dim n s ih => simp [rank, dims, ih]

""", ""),
    # renamed by a move to another module (same name, same text)
    ("NN/Spec/Core/Scalar.lean", "\n" + _CLAMP, ""),
    ("NN/Spec/Core/TensorOps.lean", "end Tensor\nend Spec", "end Tensor\n\n" + _CLAMP + "\nend Spec"),
    # body changed (the torch.optim.SGD binding `sgd-step` rests on it)
    ("NN/Proofs/Autograd/Training/StepAlgebra.lean", "  TList.sub params (TList.scale lr grads)",
     "  TList.add params (TList.scale (-lr) grads)"),
    # proof changed
    ("NN/Proofs/Autograd/Training/StepAlgebra.lean",
     "step (Γ := []) TList.nil TList.nil lr = TList.nil := by\n  rfl",
     "step (Γ := []) TList.nil TList.nil lr = TList.nil := by\n  simp [step]"),
    # statement changed (twice: the definition and the theorem that states it); module doc changed
    ("NN/Runtime/Optim/Optimizers.lean", "def SGD.update (lr : α) (p g : Tensor α s) : Tensor α s :=",
     "def SGD.update (p g : Tensor α s) (lr : α) : Tensor α s :="),
    ("NN/Runtime/Optim/Optimizers.lean", """theorem SGD.update_eq (lr : α) (p g : Tensor α s) :
    SGD.update lr p g =""", """theorem SGD.update_eq (p g : Tensor α s) (lr : α) :
    SGD.update p g lr ="""),
    ("NN/Runtime/Optim/Optimizers.lean", "Pure update rules.", "Pure update rules, one per optimizer."),
    # a comment line above the examples: their synthetic names move with their lines, no change
    ("NN/Examples/Basic.lean", "import NN.Spec.Core.TensorOps", "-- examples below\nimport NN.Spec.Core.TensorOps"),
    # a new module with one new declaration
    ("NN/Spec/Core/Init.lean", None, _INIT_V2),
]

# (change, name, old name or None): what the diff v1 → v2 must list, each exactly once
EXPECTED: set[tuple[str, str, str | None]] = {
    ("renamed", "Spec.Tensor.full", "Spec.fill"),
    ("renamed", "Spec.Tensor.full_scalar", "Spec.fill_scalar"),
    ("renamed", "Spec.Tensor.full_dim", "Spec.fill_dim"),
    ("renamed", "Spec.clampNonneg", None),
    ("moved", "Spec.Tensor.eq_scalar_toScalar", None),
    ("doc_only", "Spec.Tensor.get", None),
    ("attributes_changed", "Spec.Shape.size_scalar", None),
    ("removed", "Spec.Shape.rank_eq_length_dims", None),
    ("body_changed", "Proofs.Autograd.Algebra.SGD.step", None),
    ("proof_changed", "Proofs.Autograd.Algebra.SGD.step_nil", None),
    ("statement_changed", "Optim.SGD.update", None),
    ("statement_changed", "Optim.SGD.update_eq", None),
    ("added", "Spec.Tensor.zeros", None),
}
EXPECTED_MODULES = {("added", "NN.Spec.Core.Init"), ("docs_changed", "NN.Runtime.Optim.Optimizers")}


def apply_v2(root: Path) -> Path:
    """Turn a copy of v1 at `root` into v2, in place."""
    for rel, old, new in EDITS:
        path = root / rel
        if old is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new, encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{rel}: v2 edit does not apply ({text.count(old)} matches): {old[:60]!r}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return root


def make_v2(dst: Path) -> Path:
    shutil.copytree(V1, dst)
    return apply_v2(dst)


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    res = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True)
    return res.stdout.strip()


def make_git_repo(dst: Path) -> tuple[Path, str, str]:
    """A repository whose first commit is v1 and second is v2; returns (repo, rev1, rev2)."""
    shutil.copytree(V1, dst)
    _git(dst, "init", "-q", "-b", "main")
    _git(dst, "add", "-A")
    _git(dst, "commit", "-q", "-m", "v1")
    rev1 = _git(dst, "rev-parse", "HEAD")
    apply_v2(dst)
    _git(dst, "add", "-A")
    _git(dst, "commit", "-q", "-m", "v2")
    return dst, rev1, _git(dst, "rev-parse", "HEAD")
