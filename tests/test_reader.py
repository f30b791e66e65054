"""The reader: declarations, scopes, variables and diagnostics from Lean text."""

from __future__ import annotations

import textwrap

from bridge.lean.reader import read_module
from bridge.models import Declaration, ModuleExport


def read(src: str, path: str = "T.lean") -> ModuleExport:
    return read_module(textwrap.dedent(src), path, "T")


def decl(mod: ModuleExport, name: str) -> Declaration:
    found = [d for d in mod.declarations if d.name == name]
    assert found, f"{name} not in {[d.name for d in mod.declarations]}"
    return found[0]


def binders(d: Declaration) -> list[tuple[list[str], str | None, str, bool]]:
    return [(b.names, b.type, b.info, b.from_variable) for b in d.binders]


def test_namespaces_dotted_names_root_and_sections() -> None:
    m = read(
        """
        namespace Optim
        def SGD.update (x : Nat) : Nat := x
        section Inner
        def _root_.topLevel : Nat := 1
        protected def prot : Nat := 2
        end Inner
        namespace A.B
        private theorem t : True := trivial
        end A.B
        end Optim
        def outside : Nat := 3
        """
    )
    assert [d.name for d in m.declarations] == [
        "Optim.SGD.update",
        "topLevel",
        "Optim.prot",
        "Optim.A.B.t",
        "outside",
    ]
    assert decl(m, "Optim.prot").modifiers == ["protected"]
    assert decl(m, "Optim.A.B.t").modifiers == ["private"]
    assert m.diagnostics == []


def test_binder_kinds_defaults_and_auto_params() -> None:
    m = read(
        """
        def f {α : Type} ⦃n : Nat⦄ {{m : Nat}} [inst : Add α] [Mul α] (x y : α) (k : Nat := 3)
            (h : k > 0 := by decide) z : α := x
        """
    )
    d = decl(m, "f")
    assert binders(d) == [
        (["α"], "Type", "implicit", False),
        (["n"], "Nat", "strict_implicit", False),
        (["m"], "Nat", "strict_implicit", False),
        (["inst"], "Add α", "instance", False),
        ([], "Mul α", "instance", False),
        (["x", "y"], "α", "explicit", False),
        (["k"], "Nat", "explicit", False),
        (["h"], "k > 0", "explicit", False),
        (["z"], None, "explicit", False),
    ]
    assert d.binders[6].default == "3" and d.binders[6].auto_param is None
    assert d.binders[7].auto_param == "by decide" and d.binders[7].default is None
    assert d.type == "α" and d.value == "x" and d.value_form == "term"


def test_section_variables_follow_leans_inclusion_rule() -> None:
    m = read(
        """
        section
        variable {α β : Type} [Add α] [Mul β] {s : Nat} (x : Fin s) [Inhabited γ]
        def usesAlpha (a : α) : α := a + a
        def usesX : Nat := x.val
        theorem bodyOnly : True := by
          have := (x : Fin s)
          trivial
        def none' : Nat := 1
        end
        """
    )
    assert binders(decl(m, "usesAlpha"))[:2] == [(["α"], "Type", "implicit", True), ([], "Add α", "instance", True)]
    # x is mentioned in the body; its type brings s in
    assert binders(decl(m, "usesX")) == [(["s"], "Nat", "implicit", True), (["x"], "Fin s", "explicit", True)]
    # a theorem's proof does not pull variables in, only its statement does
    assert binders(decl(m, "bodyOnly")) == []
    assert binders(decl(m, "none'")) == []


def test_include_omit_and_variable_binder_updates() -> None:
    m = read(
        """
        variable {α : Type} [DecidableEq α] (n : Nat)
        include n in
        theorem withN : True := trivial
        omit [DecidableEq α] in
        theorem noDec (a : α) : a = a := rfl
        theorem withDec (a : α) : a = a := rfl
        variable {n}
        def usesN : Nat := n
        """
    )
    assert binders(decl(m, "withN")) == [(["n"], "Nat", "explicit", True)]
    assert binders(decl(m, "noDec"))[:2] == [(["α"], "Type", "implicit", True), (["a"], "α", "explicit", False)]
    assert binders(decl(m, "withDec"))[:2] == [(["α"], "Type", "implicit", True), ([], "DecidableEq α", "instance", True)]
    assert binders(decl(m, "usesN")) == [(["n"], "Nat", "implicit", True)]


def test_open_forms_and_in_prefixes_are_scoped() -> None:
    m = read(
        """
        namespace N
        open A B
        open scoped C
        open D (x y)
        open E hiding z
        open F renaming a → b
        def one : Nat := 1
        open G in
        def two : Nat := 2
        def three : Nat := 3
        end N
        """
    )
    s1 = m.scopes[decl(m, "N.one").scope]
    assert s1.namespace == "N"
    assert [(o.namespace, o.scoped, o.only, o.hiding, o.renaming) for o in s1.opens] == [
        ("A", False, [], [], {}),
        ("B", False, [], [], {}),
        ("C", True, [], [], {}),
        ("D", False, ["x", "y"], [], {}),
        ("E", False, [], ["z"], {}),
        ("F", False, [], [], {"a": "b"}),
    ]
    assert [o.namespace for o in m.scopes[decl(m, "N.two").scope].opens][-1] == "G"
    assert "G" not in [o.namespace for o in m.scopes[decl(m, "N.three").scope].opens]


def test_docstrings_attributes_modifiers_and_instances() -> None:
    m = read(
        """
        /-- Adds.
          Second line. -/
        @[simp, reducible] noncomputable def add2 (n : Nat) : Nat := n + 2

        @[inherit_doc add2, extern "c_add3"]
        def add3 (n : Nat) : Nat := n + 3

        @[never_extract, extern "lean_io"] opaque ioThing : Nat

        instance (priority := 1000) instNamed : Inhabited Nat := ⟨0⟩

        structure Box (α : Type) where
          x : α

        instance : Add (Box α) where
          add a b := a

        private meta def helper : Nat := 0
        """
    )
    d = decl(m, "add2")
    assert d.docstring == "Adds.\nSecond line."
    assert d.attributes == ["simp", "reducible"] and d.modifiers == ["noncomputable"]
    assert decl(m, "add3").attributes == ["inherit_doc add2", 'extern "c_add3"']
    assert decl(m, "ioThing").kind == "opaque" and decl(m, "ioThing").value is None
    named = decl(m, "instNamed")
    assert named.kind == "instance" and named.modifiers == ["priority := 1000"] and not named.anonymous
    anon = decl(m, "instAddBox")
    assert anon.anonymous and anon.value_form == "where" and "add a b" in (anon.value or "")
    assert decl(m, "helper").modifiers == ["private", "meta"]


def test_structures_classes_and_inductives() -> None:
    m = read(
        """
        namespace S
        /-- A state. -/
        structure State (α : Type) extends Base α, Other where
          mk' ::
          /-- Learning rate. -/
          lr : α := 1
          (b1 b2 : α)
          steps : Nat
            := 0
        deriving Repr

        class Sized (α : Type) where
          size : α → Nat

        inductive Vec (α : Type) : Nat → Type where
          | nil : Vec α 0
          /-- Cons. -/
          | cons {n : Nat} (a : α) (v : Vec α n) : Vec α (n + 1)
          deriving Repr

        inductive Idx : Nat → Type
        | zero : Idx 0
        | succ (n : Nat) : Idx n → Idx (n + 1)
        deriving DecidableEq, Repr
        end S
        """
    )
    st = decl(m, "S.State")
    assert st.kind == "structure" and st.docstring == "A state." and st.extends == ["Base α", "Other"]
    assert [(f.name, f.type, f.default, f.docstring) for f in st.fields] == [
        ("toBase", "Base α", None, None),  # parent projections come first
        ("toOther", "Other", None, None),
        ("lr", "α", "1", "Learning rate."),
        ("b1", "α", None, None),
        ("b2", "α", None, None),
        ("steps", "Nat", "0", None),
    ]
    assert st.fields[2].full_name == "S.State.lr" and st.deriving == ["Repr"]
    assert [c.full_name for c in st.constructors] == ["S.State.mk'"]
    assert [c.full_name for c in decl(m, "S.Sized").constructors] == ["S.Sized.mk"]
    assert [f.name for f in decl(m, "S.Sized").fields] == ["size"]
    vec = decl(m, "S.Vec")
    assert [(c.full_name, c.docstring) for c in vec.constructors] == [("S.Vec.nil", None), ("S.Vec.cons", "Cons.")]
    assert vec.constructors[1].type == "Vec α (n + 1)" and vec.type == "Nat → Type"
    idx = decl(m, "S.Idx")
    assert [c.name for c in idx.constructors] == ["zero", "succ"]
    assert idx.deriving == ["DecidableEq", "Repr"]
    assert m.diagnostics == []


def test_equations_where_blocks_and_termination() -> None:
    m = read(
        """
        def f : {ss : List Nat} → Nat → Nat
          | [], n => n
          | _ :: _, n => go n
        termination_by ss n => n
        decreasing_by simp
        where
          /-- helper -/
          go (n : Nat) : Nat := n
          other : Nat := 0

        def g (t : Tree) : Nat :=
          match t with
          | .leaf (n := n) => n
          | .node l r => g l + g r
        """
    )
    f = decl(m, "f")
    assert f.value_form == "alternatives" and f.value and f.value.startswith("| [], n => n")
    assert f.termination_by == "ss n => n" and f.decreasing_by == "simp"
    assert decl(m, "f.go").parent == "f" and decl(m, "f.go").docstring == "helper"
    assert decl(m, "f.other").type == "Nat"
    g = decl(m, "g")
    assert g.value_form == "term" and "match t with" in (g.value or "")


def test_tactic_blocks_keep_open_and_set_option_inside() -> None:
    m = read(
        """
        theorem t (n : Nat) : n = n := by
          open Nat in
          set_option maxRecDepth 100 in
          calc n = n := rfl
            _ = n := rfl

        set_option maxHeartbeats 400000 in
        theorem u : True := trivial
        """
    )
    assert [d.name for d in m.declarations] == ["t", "u"]
    assert "open Nat in" in (decl(m, "t").value or "")
    assert m.diagnostics == []


def test_notation_macro_syntax_are_recorded_and_skipped() -> None:
    m = read(
        """
        syntax "myterm" term : term
        macro_rules | `(myterm $x:term) => `($x + 1)
        scoped[Foo] notation "J[" f ", " x "]" => jac f x
        infixl:65 " ⊕ " => xor
        postfix:max "†" => adj
        def after : Nat := 1
        #eval after
        """
    )
    assert [d.name for d in m.declarations] == ["after"]
    assert [c.kind for c in m.commands] == ["syntax", "macro_rules", "notation", "infixl", "postfix", "#eval"]
    assert m.diagnostics == []


def test_module_docs_imports_and_universes() -> None:
    m = read(
        """
        module
        public import A.B
        import C
        /-! top -/
        universe u v
        def x : Nat := 1
        /-! ## middle
        text -/
        def y : Nat := 2
        """
    )
    assert m.imports == ["A.B", "C"] and m.universes == ["u", "v"]
    assert [(d.text, d.line) for d in m.module_docs] == [("top", 5), ("## middle\ntext", 8)]
    assert [d.name for d in m.declarations] == ["x", "y"]


def test_positions_and_ranges() -> None:
    m = read(
        """
        /-- doc -/
        @[simp]
        theorem α_thm : True :=
          trivial
        """
    )
    d = decl(m, "α_thm")
    assert (d.name_line, d.name_column) == (4, 9)
    assert (d.range.start_line, d.range.end_line, d.range.start_column) == (2, 5, 1)
    assert d.range.start_byte == 1  # after the leading newline


def test_every_text_field_has_its_exact_source_span() -> None:
    # `*_at`: (line, column, start_byte, end_byte) of the text as written. Bytes, not characters
    # (the `α`s before the texts are two bytes each); a section variable's binder points into its
    # `variable` command; the exported text is the slice with its whitespace collapsed.
    src = textwrap.dedent(
        """
        variable {α : Type} (εs : List
          α)
        structure P (β : Type) extends Inhabited β where
          αx : Nat := 0
          (γ δ : List β)
        inductive K where
          | mk (n : Nat) : K
        def f (x : Nat) : List α :=
          let y := x
          εs
        """
    )
    m = read_module(src, "T.lean", "T")
    raw = src.encode()

    def at(text: str | None, span: tuple[int, int, int, int] | None) -> str:
        assert text is not None and span is not None
        line, col, a, b = span
        piece = raw[a:b].decode()
        assert src.split("\n")[line - 1][col - 1 :].startswith(piece.split("\n")[0])
        assert " ".join(piece.split()) == text
        return piece

    f = decl(m, "f")
    assert [at(b.type, b.type_at) for b in f.binders] == ["Type", "List\n  α", "Nat"]
    assert f.binders[1].type_at is not None and f.binders[1].type_at[:2] == (2, 27)
    assert at(f.type, f.type_at) == "List α" and f.type_at is not None and f.type_at[0] == 9
    assert f.value_at is not None and raw[f.value_at[2] : f.value_at[3]].decode() == f.value
    assert f.value_at[:2] == (10, 3)
    p = decl(m, "P")
    fields = {x.name: x for x in p.fields}
    assert at(fields["toInhabited"].type, fields["toInhabited"].type_at) == "Inhabited β"
    assert at(fields["αx"].type, fields["αx"].type_at) == "Nat"
    assert at(fields["αx"].default, fields["αx"].default_at) == "0"
    assert at(fields["δ"].type, fields["δ"].type_at) == "List β"
    k = decl(m, "K")
    assert at(k.constructors[0].type, k.constructors[0].type_at) == "K"
    assert [at(b.type, b.type_at) for b in k.constructors[0].binders] == ["Nat"]
    assert k.value_at is not None and decl(m, "K").type_at is None


def test_statement_hash_ignores_whitespace_and_comments_but_not_content() -> None:
    a = decl(read("theorem t (n : Nat) : n = n := rfl"), "t")
    b = decl(read("theorem t (n   : Nat) /- c -/ :\n  n = n -- c\n  := rfl"), "t")
    c = decl(read("theorem t (n : Nat) : n + 0 = n := rfl"), "t")
    d = decl(read("/-- new doc -/ theorem t (n : Nat) : n = n := by rfl"), "t")
    assert a.hashes.statement == b.hashes.statement != c.hashes.statement
    assert a.hashes.statement == d.hashes.statement and a.hashes.value != d.hashes.value
    assert a.hashes.doc != d.hashes.doc


def test_malformed_declaration_does_not_cost_its_neighbours() -> None:
    m = read(
        """
        def good1 : Nat := 1
        def : Nat := 1
        def broken (x : Nat := (
        def good2 : Nat := 2
        theorem good3 : True := trivial
        """
    )
    # the broken one is kept (with its diagnostic): a declaration is never silently lost
    assert [d.name for d in m.declarations] == ["good1", "broken", "good2", "good3"]
    msgs = [(x.line, x.message) for x in m.diagnostics]
    assert (3, "expected a name after 'def'") in msgs
    assert any(line == 4 and "unclosed" in msg for line, msg in msgs)


def test_unterminated_constructs_report_position() -> None:
    m = read("def a : Nat := 1\n/- never closed\ndef b : Nat := 2\n")
    assert [d.name for d in m.declarations] == ["a"]
    assert [(x.line, x.column) for x in m.diagnostics] == [(2, 1)]
    assert m.diagnostics[0].format().startswith("T.lean:2:1: error: unterminated comment")
    m = read('def a : Nat := 1\ndef s := "never closed')
    assert [d.name for d in m.declarations] == ["a", "s"] and "string" in m.diagnostics[0].message


def test_empty_and_verso_documents() -> None:
    assert read("").declarations == [] and read("").diagnostics == []
    verso = read('import VersoManual\n#doc (Manual) "Title" =>\n# Heading\ndef looks_like_code := 1\n')
    assert verso.declarations == [] and verso.diagnostics == [] and "Verso" in verso.notes[0]


def test_mutual_blocks_and_deriving_instance() -> None:
    m = read(
        """
        mutual
          def isEven : Nat → Bool
            | 0 => true
            | n + 1 => isOdd n
          def isOdd : Nat → Bool
            | 0 => false
            | n + 1 => isEven n
        end
        deriving instance Repr for Foo
        def after : Nat := 0
        """
    )
    assert [d.name for d in m.declarations] == ["isEven", "isOdd", "after"]
    assert m.commands[0].kind == "deriving" and m.diagnostics == []


def test_end_mismatch_is_reported() -> None:
    m = read("namespace A\ndef x : Nat := 1\nend B\n")
    assert any("does not match namespace 'A'" in d.message for d in m.diagnostics)


def test_a_compound_namespace_is_one_scope_per_component() -> None:
    # as Lean: `end Interval` closes the innermost component of `namespace TorchLean.Floats.Interval`
    m = read(
        """\
        namespace TorchLean.Floats.Interval
        def a : Nat := 1
        end Interval
        def b : Nat := 2
        end TorchLean.Floats
        def c : Nat := 3
        section S.T
        variable (n : Nat)
        def d : Nat := n
        end S.T
        namespace P.Q
        def e : Nat := 4
        end Q
        end P
        def f : Nat := 5
        """
    )
    assert [d.name for d in m.declarations] == ["TorchLean.Floats.Interval.a", "TorchLean.Floats.b", "c", "d",
                                                "P.Q.e", "f"]
    assert m.diagnostics == []
    bad = read("namespace A.B\nend A\nnamespace C\nend X.C\nend\n")
    assert [d.message for d in bad.diagnostics] == [
        "'end A' does not match namespace 'B' (expected 'end B')",
        "'end X.C' closes more scopes than are open", "'end' closes nothing"]


def test_layout_sensitive_types_keep_their_line_breaks() -> None:
    """`let x := v` ends at the line break: joining the lines would make `v` swallow the body."""
    mod = read("""
        theorem t (f : Nat → Nat) :
            ∀ x,
              let y := f x
              y = y := by
          intro x; rfl
        theorem u (a b : Nat) :
            a + b =
              b + a := Nat.add_comm a b
        """)
    assert decl(mod, "t").type == "∀ x,\n      let y := f x\n      y = y"
    assert decl(mod, "u").type == "a + b = b + a"


def test_flattened_texts_drop_comments_and_keep_string_literals() -> None:
    # joining the lines of a commented type would let the first `--` swallow the rest of it
    m = read(
        """\
        def cell (x : Nat) :
          (Nat ×        -- the new state
           Nat ×        /- a gate -/
           Nat) := (x, x, x)
        theorem spaced (s : String) (h : s = "a  b -- c") : s.length = 8 := by
          sorry
        """
    )
    assert decl(m, "cell").type == "(Nat × Nat × Nat)"
    assert binders(decl(m, "spaced"))[1] == (["h"], 's = "a  b -- c"', "explicit", False)


def test_a_statement_ending_in_a_match_owns_its_alternatives() -> None:
    # Lean parses the bars as the match's; the declaration's value is the proof after `:=`
    m = read(
        """\
        theorem parity (n : Nat) :
            match n with
            | 0 => True
            | _ + 1 => n ≠ 0 := by
          cases n <;> simp
        def isZero : Nat → Bool
          | 0 => true
          | _ + 1 => false
        def pick (b : Bool) : Nat → Nat := fun
          | 0 => 1
          | _ => 2
        """
    )
    p = decl(m, "parity")
    assert p.type is not None and " ".join(p.type.split()) == "match n with | 0 => True | _ + 1 => n ≠ 0"
    assert p.value_form == "term" and (p.value or "").startswith("by")
    assert decl(m, "isZero").value_form == "alternatives"
    assert decl(m, "pick").value_form == "term"


def test_constructors_named_like_commands_start_no_command() -> None:
    # `| export` declares a constructor and `.import` names one: neither starts a command
    m = read(
        """\
        inductive Mode where
          | export
          | import
          deriving Repr
        def Mode.parse (s : String) : Option Mode :=
          match s with
          | "export" => some .export
          | _ => some .import
        def Mode.code : Mode → Nat
          | .export => 1
          | .import => 2
        """
    )
    assert [d.name for d in m.declarations] == ["Mode", "Mode.parse", "Mode.code"]
    assert [c.name for c in decl(m, "Mode").constructors] == ["export", "import"] and m.diagnostics == []
