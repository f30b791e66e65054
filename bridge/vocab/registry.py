"""The trusted vocabulary: Lean constants that Python implements by hand.

Each `Entry` names the Lean full name(s) it stands for (aliases across TorchLean generations),
its explicit arity, the positions of proof arguments that are erased (never translated), and
`kind`:

- `primitive`: always used, even when the corpus defines the constant, because the Lean
  definition cannot sensibly be run (structural recursion over `Fin`-indexed tensor trees,
  proofs, core library functions). The `why` field says which.
- `fallback`: used only when the corpus has no translatable definition (e.g. a TorchLean
  generation whose `TensorPack` functions are defined over packed storage).

The Python implementation is `bridge.vocab.prims.<py>`; it takes the domain first, then the
explicit arguments, then implicit arguments by keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["primitive", "fallback", "constant"]


@dataclass(frozen=True)
class Entry:
    names: tuple[str, ...]
    py: str
    arity: int
    kind: Kind = "primitive"
    erased: tuple[int, ...] = ()
    why: str = ""
    scalar_args: tuple[int, ...] = ()  # explicit arguments of type α (a literal there is a domain scalar)
    erased_names: tuple[str, ...] = ()  # the erased proof arguments' binder names (`(h := …)`)
    receiver: int = 0  # the explicit argument `x` fills in field notation `x.f` (`xs.map f` = `List.map f xs`)
    result: str | None = None  # the namespace of the result's type, for field notation on it (`(…).sum`)


TLIST = ("Proofs.Autograd.Algebra.TList", "TorchLean.TensorPack")

_TREE = "structural recursion over Fin-indexed tensor trees: an array primitive"


def _tl(op: str) -> tuple[str, ...]:
    return tuple(f"{ns}.{op}" for ns in TLIST)


ENTRIES: tuple[Entry, ...] = (
    # Shapes are tuples of dims; constructors
    Entry(("Spec.Shape.scalar",), "shape_scalar", 0, "constant", why="constructor"),
    Entry(("Spec.Shape.dim",), "shape_dim", 2, why="constructor"),
    # Tensors
    Entry(("Spec.Tensor.scalar",), "tensor_scalar", 1, why="constructor: a 0-d array", scalar_args=(0,)),
    Entry(("Spec.fill",), "fill", 2, why=_TREE, scalar_args=(0,)),
    Entry(("Spec.Tensor.full", "TorchLean.Tensor.full", "Tensor.full"), "full", 2,
          why="newer generation's `Spec.fill` with the arguments swapped", scalar_args=(1,)),
    Entry(("Spec.Tensor.mapSpec",), "map_spec", 2, why=_TREE),
    Entry(("Spec.Tensor.map2Spec",), "map2_spec", 3, why=_TREE),
    Entry(("Spec.Tensor.addSpec",), "add_spec", 2, "fallback"),
    Entry(("Spec.Tensor.subSpec",), "sub_spec", 2, "fallback"),
    Entry(("Spec.Tensor.mulSpec",), "mul_spec", 2, "fallback"),
    Entry(("Spec.Tensor.divSpec",), "div_spec", 2, "fallback"),
    Entry(("Spec.Tensor.negSpec",), "neg_spec", 1, "fallback"),
    Entry(("Spec.Tensor.squareSpec",), "square_spec", 1, "fallback"),
    Entry(("Spec.Tensor.sqrtSpec",), "sqrt_spec", 1, "fallback"),
    Entry(("Spec.Tensor.scaleSpec",), "scale_spec", 2, "fallback", scalar_args=(1,)),
    Entry(("Proofs.TensorAlgebra.dotAcc",), "dot_acc", 3, why=_TREE + " (a foldl over List.finRange)",
          scalar_args=(0,)),
    Entry(("Proofs.TensorAlgebra.dot",), "dot", 2,
          why="a foldl over List.finRange of a Fin-indexed tree: accumulate left to right from 0"),
    # TList / TensorPack: a Python list of arrays
    Entry(_tl("nil"), "tlist_nil", 0, "constant", why="constructor"),
    Entry(_tl("cons"), "tlist_cons", 2, why="constructor"),
    Entry(_tl("cast"), "cast", 2, erased=(0,), erased_names=("h",),
          why="proof-carrying cast: the identity at run time"),
    Entry(_tl("append"), "tlist_append", 2, why="defined in the runtime layer, outside the proofs"),
    Entry(_tl("zero"), "tlist_zero", 1, "fallback"),
    Entry(_tl("add"), "tlist_add", 2, "fallback"),
    Entry(_tl("sub"), "tlist_sub", 2, "fallback"),
    Entry(_tl("scale"), "tlist_scale", 2, "fallback", scalar_args=(0,)),
    Entry(_tl("snoc"), "tlist_snoc", 2, "fallback"),
    Entry(_tl("unsnoc"), "tlist_unsnoc", 1, "fallback"),
    Entry(_tl("dotList"), "tlist_dot_list", 2, "fallback"),
    Entry(_tl("get"), "tlist_get", 2, "fallback"),
    # Scalars
    Entry(("Spec.Sqrt.sqrt", "Real.sqrt", "Float.sqrt"), "sqrt", 1, why="the domain's square root"),
    Entry(("Spec.Exp.exp", "Real.exp", "Float.exp"), "exp", 1, why="the domain's exponential"),
    Entry(("Max.max", "max"), "max_", 2, why="Lean core"),
    Entry(("Min.min", "min"), "min_", 2, why="Lean core"),
    Entry(("id",), "ident", 1, why="Lean core"),
    # Lists, pairs, naturals (Lean core)
    Entry(("List.nil",), "list_nil", 0, "constant", why="Lean core"),
    Entry(("List.cons",), "list_cons", 2, why="Lean core", receiver=1, result="List"),
    Entry(("List.length",), "length", 1, why="Lean core"),
    Entry(("List.append", "HAppend.hAppend"), "append", 2, why="Lean core"),
    Entry(("List.finRange",), "fin_range", 1, why="Lean core", result="List"),
    Entry(("List.range",), "fin_range", 1, why="Lean core", result="List"),
    Entry(("List.foldl",), "foldl", 3, why="Lean core", receiver=2),
    Entry(("List.map",), "list_map", 2, why="Lean core", receiver=1, result="List"),
    Entry(("List.take",), "list_take", 2, why="Lean core (`take n xs`)", receiver=1, result="List"),
    Entry(("List.drop",), "list_drop", 2, why="Lean core (`drop n xs`)", receiver=1, result="List"),
    Entry(("List.sum",), "list_sum", 1, why="Lean core: 0 + x₁ + … (foldr)"),
    Entry(("List.prod",), "list_prod", 1, why="Mathlib: 1 * x₁ * … (foldr)"),
    Entry(("List.get",), "list_get", 2, why="Lean core"),
    Entry(("Fin.val", "Fin.toNat"), "ident", 1, why="a `Fin n` is its natural-number value here"),
    Entry(("Prod.fst",), "fst", 1, why="Lean core"),
    Entry(("Prod.snd",), "snd", 1, why="Lean core"),
    Entry(("Prod.mk",), "pair", 2, why="Lean core"),
    Entry(("Nat.succ",), "succ", 1, why="Lean core"),
    Entry(("Nat.zero",), "nat_zero", 0, "constant", why="Lean core"),
    Entry(("Bool.true", "true", "True"), "true_", 0, "constant", why="Lean core"),
    Entry(("Bool.false", "false", "False"), "false_", 0, "constant", why="Lean core"),
)


# Constructors the translator refuses, and why (a clear message instead of wrong code).
UNSUPPORTED: dict[str, str] = {
    "Spec.Tensor.dim": "a tensor built from a function on `Fin n` needs `n`, which the term does not carry; "
                       "give the enclosing definition a vocabulary entry instead",
    "Spec.Tensor.ofFn": "a tensor built from a function on `Fin n` needs `n`, which the term does not carry",
}


def by_name() -> dict[str, Entry]:
    """Lean full name → entry."""
    out: dict[str, Entry] = {}
    for e in ENTRIES:
        for n in e.names:
            out[n] = e
    return out


LOOKUP = by_name()
