"""Reader regressions for shapes met in real library files (written in our own words)."""

from __future__ import annotations

import textwrap

from bridge.lean.reader import read_module
from bridge.models import ModuleExport


def read(src: str) -> ModuleExport:
    return read_module(textwrap.dedent(src), "T.lean", "T")


def test_anonymous_instances_with_the_same_class_get_distinct_names() -> None:
    # Unnamed instances that Lean's name generator names alike: the second and later ones get
    # `_1`, `_2` … rather than reusing the name. A binder the rest does not mention is named
    # `Of…` (`a > 0` is `@GT.gt Nat _ a (OfNat.ofNat 0)`: GtNatOfNat).
    m = read(
        """
        namespace Grid
        class Nonempty' (g : Grid) : Prop where
          ok : True
        instance : Nonempty' (.cell 1) := ⟨trivial⟩
        instance : Nonempty' (.cell 2) := ⟨trivial⟩
        instance : Grid.Nonempty' (Grid.cell 3) := ⟨trivial⟩
        instance {a} (h : a > 0) : Nonempty' (.cell a) where
          ok := trivial
        instance {a} [Fact (a > 0)] : Grid.Nonempty' (.cell a) := ⟨trivial⟩
        end Grid
        """
    )
    names = [d.name for d in m.declarations if d.kind == "instance"]
    assert names == ["Grid.instNonempty'CellOfNatNat", "Grid.instNonempty'CellOfNatNat_1",
                     "Grid.instNonempty'CellOfNatNat_2", "Grid.instNonempty'CellOfGtNatOfNat",
                     "Grid.instNonempty'CellOfFactGtNatOfNat"]
    assert len({d.name for d in m.declarations}) == len(m.declarations)


def test_anonymous_instance_names_capitalize_constants_once() -> None:
    # A leading-dot constructor and a dotted constant both contribute their capitalized last
    # component; a constant repeated in the class type is named once; variables are left out;
    # a binder the type does not depend on adds `Of…`.
    m = read(
        """
        class Marker (t : Tree) where
        class Combine (a b : α) where
        structure Wrap where
          val : Nat
        instance : Marker .leaf := ⟨⟩
        instance : Combine Pair.mk Pair.mk := ⟨⟩
        instance {w : Wrap} : Combine Count Count := ⟨⟩
        instance {x : α} : Combine x x := ⟨⟩
        """
    )
    assert [d.name for d in m.declarations if d.kind == "instance"] == [
        "instMarkerLeaf", "instCombineMk", "instCombineCountOfWrap", "instCombine"]
    assert all(d.anonymous for d in m.declarations if d.kind == "instance")


def test_anonymous_instance_names_follow_leans_name_generator() -> None:
    # Lean.Elab.DeclNameGen, approximated on the text: the current namespace's constants are
    # left out, notation is named by its constant (ℝ Real, `(· < ·)` LT.lt), instance binders add
    # `Of…`, and a name that mentions nothing of this module gets a project or module suffix.
    m = read_module(textwrap.dedent(
        """
        class Pretty (α : Type) where
          pretty : α → String
        inductive Color where
          | red
        namespace Color
        instance : Pretty Color := ⟨fun _ => "c"⟩
        end Color
        instance : Pretty ℝ := ⟨fun _ => "r"⟩
        instance : Pretty ℚ := ⟨fun _ => "q"⟩
        class Shiny (α : Type) where
          ok : Bool
        instance {α : Type} [Shiny α] : DecidableRel ((· < ·) : α → α → Prop) := sorry
        instance [Shiny α] [Pretty α] : Pretty (List α) := sorry
        instance : Coe Nat Float := ⟨fun n => n.toFloat⟩
        instance : Inhabited Widget := ⟨default⟩
        """),
        "Demo/Inst.lean", "Demo.Inst",
    )
    assert [d.name for d in m.declarations if d.kind == "instance"] == [
        "Color.instPretty",  # not instPrettyColor: `Color` is the namespace
        "instPrettyReal",
        "instPrettyRat",
        "instDecidableRelLtOfShiny",  # the section is `LT.lt`; the ascription names nothing
        "instPrettyListOfShiny",  # `Pretty` is named once: `[Pretty α]` adds nothing
        "instCoeNatFloat_demo_inst",  # only Lean's own constants: the module's suffix
        "instInhabitedWidget_demo",  # another module of this project: the project's suffix
    ]
    # a section variable is a local variable: never part of the name, whatever its length
    v = read_module(textwrap.dedent(
        """
        namespace Demo
        structure Box (k : Nat) where
          v : Nat
        namespace Box
        variable {count : Nat}
        instance : Repr (Box count) := ⟨fun _ _ => "b"⟩
        end Box
        end Demo
        """), "Demo/Box.lean", "Demo.Box")
    assert [d.name for d in v.declarations if d.kind == "instance"] == ["Demo.Box.instRepr"]
    # a named argument is named when it is a type (Lean visits type arguments even when implicit)
    n = read_module(textwrap.dedent(
        """
        def BuildM (α : Type) : Type → Type := StateM α
        class Ops (m : Type → Type) (α : Type) where
          zero : m α
        instance [Inhabited α] : Ops (m := BuildM α) (α := α) := ⟨pure default⟩
        """), "Demo/Ops.lean", "Demo.Ops")
    assert [d.name for d in n.declarations if d.kind == "instance"] == ["instOpsBuildMOfInhabited"]


def test_statement_that_starts_with_an_absolute_value_and_inductives_without_where() -> None:
    # a type that opens with `|x|` on its own line is a statement, not equation alternatives;
    # an inductive's constructors, with or without `where`, are no term
    m = read(
        """
        theorem dist_le (a b : Int) :
            |a - b| ≤
              |a| + |b| := by
          omega

        def sign : Int → Int
          | 0 => 0
          | _ => 1

        inductive Step : Nat → Prop
          | zero : Step 0
          | succ {n : Nat} : Step n → Step (n + 1)
        """
    )
    thm, sign, step = m.declarations[0], m.declarations[1], m.declarations[2]
    assert thm.type is not None and thm.type.startswith("|a - b| ≤") and thm.value_form == "term"
    assert (thm.value or "").strip() == "by\n  omega"
    assert sign.value_form == "alternatives" and (sign.value or "").startswith("| 0 => 0")
    assert step.value_form == "where" and [c.name for c in step.constructors] == ["zero", "succ"]
