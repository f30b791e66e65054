"""Name resolution over the committed exports of our fixture tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.lean.terms import App, BinOp, DotIdent, Ident, Proj, parse_term
from bridge.models import Declaration, Hashes, ModuleExport, OpenDirective, Range, Scope
from bridge.resolve import Corpus, walk

EXPORTS = Path(__file__).resolve().parent.parent / "lean_exports"
ALG = "Proofs.Autograd.Algebra"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.load(EXPORTS)


def targets(corpus: Corpus, name: str) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for u in corpus.uses_of(name):
        out.setdefault(u.name, set()).add(u.target)
    return out


def test_zero_unresolved_over_fixture_tree(corpus: Corpus) -> None:
    bad = [(n, u.name, u.line, u.column) for n in corpus.decls for u in corpus.uses_of(n) if u.status == "unresolved"]
    assert bad == []
    statuses = {u.status for n in corpus.decls for u in corpus.uses_of(n)}
    assert statuses == {"local", "corpus", "external"}


def test_namespace_and_opens(corpus: Corpus) -> None:
    t = targets(corpus, f"{ALG}.SGD.step")
    assert t["TList.sub"] == {f"{ALG}.TList.sub"} and t["TList.scale"] == {f"{ALG}.TList.scale"}
    t = targets(corpus, f"{ALG}.SGD.step_cons")
    assert t["subSpec"] == {"Spec.Tensor.subSpec"} and t["scaleSpec"] == {"Spec.Tensor.scaleSpec"}
    assert t["step"] == {f"{ALG}.SGD.step"}
    t = targets(corpus, f"{ALG}.Graph.seedScalarLoss")
    assert t["Tensor.scalar"] == {"Spec.Tensor.scalar"}
    assert t["List.append_assoc"] == {"List.append_assoc"}
    uses = {u.name: u.status for u in corpus.uses_of(f"{ALG}.Graph.seedScalarLoss")}
    assert uses["List.append_assoc"] == "external" and uses["Γ"] == "local" and uses["ss"] == "local"
    # `dot` through `open TensorAlgebra` relative to the namespace Proofs
    assert targets(corpus, f"{ALG}.TList.dotList")["dot"] == {"Proofs.TensorAlgebra.dot"}


def test_open_in_and_external_open(corpus: Corpus) -> None:
    # `open List in def Graph.eval`: `append_nil` is Lean core's List.append_nil
    t = targets(corpus, f"{ALG}.Graph.eval")
    assert t["append_nil"] == {"List.append_nil"}


def test_dot_notation_through_binder_types(corpus: Corpus) -> None:
    t = targets(corpus, f"{ALG}.Graph.eval")
    assert t[".eval"] == {f"{ALG}.Graph.eval"}  # g.eval, g from the pattern `.snoc g node`
    # ctx.snoc (ctx from `let ctx := g.eval x d`) is TList's; the pattern `.snoc g node` Graph's
    assert t[".snoc"] == {f"{ALG}.TList.snoc", f"{ALG}.Graph.snoc"}
    assert t[".forward"] == {f"{ALG}.Node.forward"}  # node from the constructor's binder type
    t = targets(corpus, f"{ALG}.Graph.backprop_correct")
    assert t[".jvpCtx"] == {f"{ALG}.Graph.jvpCtx"}
    t = targets(corpus, "Optim.AdamW.update")
    assert t[".toState"] == {"Optim.AdamW.State.toState"}
    assert t[".lr"] == {"Optim.Adam.State.lr"}  # inherited through `extends`
    r = corpus.resolved(f"{ALG}.Graph.eval")
    projs = [n for n in walk(r.body) if isinstance(n, Proj) and n.field == "eval"]
    assert projs and isinstance(projs[0].term, Ident) and projs[0].term.status == "local"


def test_leading_dot_uses_expected_type(corpus: Corpus) -> None:
    # `fill v : (s : Shape) → Tensor α s`: pattern `.scalar` is a Shape, the result a Tensor
    t = targets(corpus, "Spec.fill")
    assert t[".scalar"] == {"Spec.Shape.scalar", "Spec.Tensor.scalar"}
    body = corpus.resolved("Spec.fill").body
    alt = body.alts[0]  # type: ignore[union-attr]
    assert alt.patterns[0].target == "Spec.Shape.scalar"
    assert isinstance(alt.rhs, App) and alt.rhs.fn.target == "Spec.Tensor.scalar"  # type: ignore[union-attr]
    assert targets(corpus, f"{ALG}.TList.zero")[".nil"] == {f"{ALG}.TList.nil"}


def test_leading_dot_in_an_equation_uses_the_other_side(corpus: Corpus) -> None:
    # `fill v .scalar = .scalar v`: the argument `.scalar` is a Shape (fill's binder type), the
    # rhs `.scalar v` a Tensor (the type of the lhs), though `Spec.Shape.scalar` sorts first
    st = corpus.resolved("Spec.fill_scalar").statement
    assert isinstance(st, BinOp) and isinstance(st.lhs, App) and isinstance(st.rhs, App)
    assert isinstance(st.lhs.args[1].value, DotIdent) and st.lhs.args[1].value.target == "Spec.Shape.scalar"
    assert isinstance(st.rhs.fn, DotIdent) and st.rhs.fn.target == "Spec.Tensor.scalar"
    st = corpus.resolved("Spec.fill_dim").statement
    assert isinstance(st, BinOp) and isinstance(st.rhs, App) and isinstance(st.rhs.fn, DotIdent)
    assert st.rhs.fn.target == "Spec.Tensor.dim"


def test_protected_needs_qualification(corpus: Corpus) -> None:
    assert f"{ALG}.TList.cast" in corpus.protected
    t = targets(corpus, f"{ALG}.TList.dotList_cast")
    assert t["TList.cast"] == {f"{ALG}.TList.cast"}


def test_find_suffix(corpus: Corpus) -> None:
    assert corpus.find("SGD.step") == [f"{ALG}.SGD.step"]
    assert len(corpus.find("update")) > 1
    assert corpus.find("no_such_thing") == []


def _mod(decls: list[Declaration], scopes: list[Scope]) -> ModuleExport:
    return ModuleExport(tool_version="t", module="M", path="M.lean", source_sha256="0", declarations=decls,
                        scopes=scopes)


def _decl(name: str, value: str | None = None, scope: int = 0, mods: list[str] | None = None) -> Declaration:
    r = Range(start_line=1, start_column=1, start_byte=0, end_line=1, end_column=1, end_byte=0)
    return Declaration(name=name, kind="def", name_line=1, name_column=1, range=r, value=value,
                       value_form="term" if value else "none", scope=scope, modifiers=mods or [],
                       hashes=Hashes(statement="", value="", doc=""))


def test_open_forms_hiding_only_renaming_export() -> None:
    scopes = [
        Scope(namespace=""),
        Scope(namespace="", opens=[OpenDirective(namespace="X", only=["x1"])]),
        Scope(namespace="", opens=[OpenDirective(namespace="X", hiding=["x2"])]),
        Scope(namespace="", opens=[OpenDirective(namespace="X", renaming={"x1": "xOne"})]),
        Scope(namespace="Y", exports=[OpenDirective(namespace="X", only=["x2"])]),
        Scope(namespace="A.B"),
    ]
    decls = [
        _decl("X.x1"), _decl("X.x2"), _decl("A.a"), _decl("A.B.b", mods=["protected"]),
        _decl("only", "x1 + x2", 1), _decl("hiding", "x1 + x2", 2), _decl("renamed", "xOne", 3),
        _decl("viaExport", "Y.x2", 0), _decl("A.B.inner", "a + B.b + b + A.nope", 5),
    ]
    c = Corpus([_mod(decls, scopes)])

    def st(name: str) -> dict[str, tuple[str | None, str]]:
        return {u.name: (u.target, u.status) for u in c.uses_of(name)}

    assert st("only") == {"x1": ("X.x1", "corpus"), "x2": ("x2", "external")}
    assert st("hiding") == {"x1": ("X.x1", "corpus"), "x2": ("x2", "external")}
    assert st("renamed") == {"xOne": ("X.x1", "corpus")}
    assert st("viaExport") == {"Y.x2": ("X.x2", "corpus")}
    inner = st("A.B.inner")
    assert inner["a"] == ("A.a", "corpus")  # namespace prefix A
    assert inner["B.b"] == ("A.B.b", "corpus")
    assert inner["b"][1] != "corpus"  # protected: the last component alone does not reach it
    assert inner["A.nope"] == (None, "unresolved")  # the corpus owns namespace A


def test_parse_then_resolve_keeps_positions(corpus: Corpus) -> None:
    r = corpus.resolved(f"{ALG}.SGD.step")
    assert r.body is not None and (r.body.line, r.body.column) == (57, 3)
    assert isinstance(parse_term("x"), Ident)


def test_field_notation_looks_through_type_abbreviations() -> None:
    # `abbrev Dims := List Nat`: `d.length` on `d : Dims` is `List.length`; a structure's own
    # fields still win, and an abbreviation of an abbreviation is followed too
    from bridge.lean.reader import read_module

    m = read_module(
        "namespace T\n"
        "abbrev Dims := List Nat\n"
        "abbrev Dims2 := Dims\n"
        "structure Box where\n  length : Nat\n"
        "def rank (d : Dims) : Nat := d.length\n"
        "def rank2 (d : Dims2) : Nat := d.foldl (· + ·) 0\n"
        "def boxLen (b : Box) : Nat := b.length\n"
        "end T\n", "A.lean", "A")
    c = Corpus([m])
    got = {n: [(u.name, u.target) for u in c.uses_of(n) if u.name.startswith(".")] for n in
           ("T.rank", "T.rank2", "T.boxLen")}
    assert got == {"T.rank": [(".length", "List.length")], "T.rank2": [(".foldl", "List.foldl")],
                   "T.boxLen": [(".length", "T.Box.length")]}


FIXTURE_ROOT = Path(__file__).resolve().parent / "fixtures" / "torchlean"


def _with_sources() -> Corpus:
    from bridge.exports import load_exports

    _, modules = load_exports(EXPORTS)
    return Corpus(modules, FIXTURE_ROOT)


def test_texts_are_parsed_from_their_exact_source_slices() -> None:
    # Every text field is parsed from its verbatim slice (the export's `*_at` span), at the
    # slice's own line and column: each identifier's position names where it is written. This
    # holds for members too (a field's, a constructor's type), which used to sit at column 1.
    c = _with_sources()
    sources: dict[str, list[str]] = {}
    checked = members = 0
    for name in c.decls:
        m = c.decls[name][1]
        lines = sources.setdefault(m.path, (FIXTURE_ROOT / m.path).read_text("utf-8").split("\n"))
        r = c.resolved(name)
        for tree in r.trees():
            for n in walk(tree):
                if isinstance(n, (Ident, DotIdent)):
                    written = ("@" if isinstance(n, Ident) and n.explicit else "") + (
                        "." if isinstance(n, DotIdent) else "") + n.name
                    assert lines[n.line - 1][n.column - 1 :].startswith(written), (name, n)
                    checked += 1
        members += len(r.members)
    assert checked > 2000 and members > 20


def test_a_stale_or_missing_source_falls_back_to_the_exported_text(tmp_path: Path) -> None:
    # Without the file (or with a file changed since extraction) the exported text is parsed, at
    # the declaration's name: the same targets, positions no longer exact.
    from bridge.exports import load_exports

    _, modules = load_exports(EXPORTS)
    with_src = Corpus(modules, FIXTURE_ROOT)
    without = Corpus(modules, tmp_path)
    name = f"{ALG}.SGD.step"
    got = {(u.name, u.target) for u in without.uses_of(name)}
    assert got == {(u.name, u.target) for u in with_src.uses_of(name)} and got
    d = without.decls[name][0]
    assert {u.line for u in without.uses_of(name)} <= {d.name_line}


def test_resolved_nodes_are_what_validation_builds(corpus: Corpus) -> None:
    # the resolver writes targets straight into the nodes' fields: the nodes must stay ordinary
    # models (equal to a validated copy, the written fields marked as set)
    r = corpus.resolved(f"{ALG}.Graph.seedScalarLoss")
    names = [n for t in r.trees() for n in walk(t) if isinstance(n, (Ident, DotIdent, Proj))]
    assert names
    for n in names:
        assert {"target", "status"} <= n.model_fields_set
        assert type(n).model_validate(n.model_dump()) == n


def test_walk_visits_every_field_of_every_node() -> None:
    # `walk` recurses only into the fields the parser's node tables name; a field missing there
    # would hide identifiers from `uses`. Compare with a walk over every model field.
    from pydantic import BaseModel

    def full(t: object) -> list[int]:
        out: list[int] = []
        stack = [t]
        while stack:
            x = stack.pop()
            if isinstance(x, BaseModel):
                if id(x) in out:  # a node shared by several parents is visited once
                    continue
                out.append(id(x))
                stack.extend(v for name in reversed(type(x).model_fields)
                             if isinstance(v := getattr(x, name), (BaseModel, list)))
            elif isinstance(x, list):
                stack.extend(reversed(x))
        return out

    c = _with_sources()
    n = 0
    for name in c.decls:
        for tree in c.resolved(name).trees():
            got = [id(x) for x in walk(tree)]
            assert got == full(tree), name
            n += len(got)
    assert n > 2000


def test_resolution_pauses_the_collector_and_restores_it() -> None:
    """`resolved` runs with the cyclic collector off and its trees frozen (they are cached and
    acyclic); the collector's state is restored afterwards, also when resolution raises."""
    import gc

    from bridge.gcpause import gc_paused

    c = Corpus.load(EXPORTS)
    name = f"{ALG}.SGD.step"
    frozen = gc.get_freeze_count()
    seen: list[bool] = []
    real = c._resolve

    def spy(*a: object) -> object:
        seen.append(gc.isenabled())
        return real(*a)  # type: ignore[arg-type]

    c._resolve = spy  # type: ignore[method-assign]
    try:
        assert gc.isenabled()
        c.resolved(name)
        assert seen == [False] and gc.isenabled()
        assert gc.get_freeze_count() > frozen  # the new trees left the generations rescanned
        gc.disable()
        c.resolved(f"{ALG}.SGD.step_cons")
        assert not gc.isenabled()  # a caller's disabled collector stays disabled
    finally:
        gc.enable()

    def boom(*a: object) -> object:
        raise RuntimeError("boom")

    c._resolve = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        c.resolved(f"{ALG}.TList.sub")
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused(freeze=True):
        before = gc.get_freeze_count()
        raise RuntimeError("no freeze on error")
    assert gc.get_freeze_count() == before and gc.isenabled()


def test_a_defs_own_name_comes_first_and_can_make_a_name_missing(tmp_path: Path) -> None:
    # In a def's equations its own name is the innermost namespace: `go` is the `where` helper
    # `Geo.area.go`, and `Helpers.nope` is a missing corpus name, since `Geo.area.Helpers` is a
    # corpus namespace. Declarations of one namespace and scope share lookups: `perimeter`, with
    # the same prefixes but no helper of its own, must not get `area`'s answers.
    c = _corpus_of(tmp_path, "Geo",
        "namespace Geo\n\n"
        "def go (y : Nat) : Nat := y + 1\n\n"
        "def area.Helpers.one : Nat := 1\n\n"
        "def area (x : Nat) : Nat := go x + Helpers.nope x\nwhere go (y : Nat) : Nat := y\n\n"
        "def perimeter (x : Nat) : Nat := go x + Helpers.nope x\n\n"
        "end Geo\n")
    area = {u.name: (u.target, u.status) for u in c.uses_of("Geo.area")}
    assert area["go"] == ("Geo.area.go", "corpus")
    assert area["Helpers.nope"] == (None, "unresolved")
    per = {u.name: (u.target, u.status) for u in c.uses_of("Geo.perimeter")}
    assert per["go"] == ("Geo.go", "corpus")
    assert per["Helpers.nope"] == ("Helpers.nope", "external")


def test_a_dropped_corpus_is_freed_although_its_trees_were_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # `resolved` freezes what is alive (gc.freeze): a reference cycle through the corpus would
    # then never be collected, and every corpus a process builds (generate, sync) would stay
    import gc
    import weakref

    from bridge import generate as gen_mod

    c = Corpus.load(EXPORTS)
    for name in c.decls:
        c.resolved(name)
    ref = weakref.ref(c)
    del c
    gc.collect()
    assert ref() is None

    made: list[weakref.ref[Corpus]] = []

    class Recorded(Corpus):
        def __init__(self, *a, **k) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*a, **k)
            made.append(weakref.ref(self))

    # what resolving froze goes back to the collector with the corpus: a cycle that was alive
    # during resolution is collected once the corpus is gone
    class Node:
        pass

    # CPython 3.12 reports a few hundred objects frozen after `freeze(); unfreeze(); collect()`
    # with nothing of ours involved (3.11 and 3.13 report 0): compare with what it reports so
    gc.freeze()
    gc.unfreeze()
    gc.collect()
    leftover = gc.get_freeze_count()
    cycle = Node()
    cycle.me = cycle  # type: ignore[attr-defined]
    alive = weakref.ref(cycle)
    c = Corpus.load(EXPORTS)
    c.resolved(f"{ALG}.SGD.step")
    assert gc.get_freeze_count() > leftover
    del cycle
    gc.collect()
    assert alive() is not None  # frozen while the corpus lives
    del c
    gc.collect()
    assert gc.get_freeze_count() == leftover and alive() is None

    monkeypatch.setattr(gen_mod, "Corpus", Recorded)
    assert gen_mod.render(EXPORTS)
    gc.collect()
    assert len(made) == 1 and made[0]() is None


def test_a_shared_alternative_rhs_is_one_place(tmp_path: Path) -> None:
    # `| .add | .mul => rhs`: one rhs for two alternatives, walked once; and a
    # nested match ends where a `|` left of its first alternative begins the enclosing one
    from bridge.lean.terms import Match

    c = _corpus_of(tmp_path, "Shr",
        "namespace Shr\n\ninductive Kind where\n  | add | mul | neg | conv (k : Nat)\n\n"
        "structure Node where\n  kind : Kind\n\n"
        "def score (node : Node) (ibp : Option Nat) : Nat :=\n"
        "  match node.kind with\n"
        "  | .add | .mul =>\n"
        "    match ibp with\n"
        "    | some b => b\n"
        "    | none => 0\n"
        "  | .conv _ =>\n"
        "    match node.kind with\n"
        "    | .neg => 1\n"
        "    | _ => 2\n"
        "  | .neg => 3\n\nend Shr\n")
    body = c.resolved("Shr.score").body  # resolved once: test_resolution_visits_every_node_once
    assert isinstance(body, Match) and [len(a.patterns) for a in body.alts] == [1, 1, 1, 1]
    assert body.alts[0].rhs is body.alts[1].rhs
    inner = body.alts[0].rhs
    assert isinstance(inner, Match) and len(inner.alts) == 2 and isinstance(body.alts[2].rhs, Match)
    uses = [(u.name, u.target, u.line) for u in c.uses_of("Shr.score")]
    assert uses.count(("some", "Option.some", 13)) == 1  # the shared rhs counted once
    assert (".neg", "Shr.Kind.neg", 19) in uses and (".conv", "Shr.Kind.conv", 15) in uses


def test_alternatives_binding_differently_resolve_their_own_copy(tmp_path: Path) -> None:
    # `| .a x | .b x => Nat.succ x.val`: one rhs in the tree, but `x` is an `A` in the first
    # alternative and a `B` in the second, so `x.val` means `A.val` there and `B.val` here
    c = _corpus_of(tmp_path, "Two",
        "namespace Two\n\nstructure A where\n  val : Nat\n\nstructure B where\n  val : Nat\n\n"
        "inductive Pick where\n  | a (x : A)\n  | b (x : B)\n\n"
        "def get (p : Pick) : Nat :=\n  match p with\n  | .a x | .b x => Nat.succ x.val\n\nend Two\n")
    body = c.resolved("Two.get").body
    targets = [[n.target for n in walk(alt.rhs) if isinstance(n, Proj)] for alt in body.alts]  # type: ignore[union-attr]
    assert targets == [["Two.A.val"], ["Two.B.val"]]


def test_match_patterns_take_the_type_of_the_resolved_discriminant(tmp_path: Path) -> None:
    # `.sgd lr` in `match view n with` is View's constructor (view returns a View), `.nil` in
    # `match xs with` is List's, although another corpus type has constructors of those names
    c = _corpus_of(tmp_path, "Pick",
        "namespace Pick\n\ninductive Other where\n  | nil | cons (a : Nat) | sgd\n\n"
        "inductive View where\n  | sgd (lr : Nat) | adam\n\n"
        "def view (n : Nat) : View := .adam\n\n"
        "def rate (n : Nat) : Nat :=\n  match view n with\n  | .sgd lr => lr\n  | .adam => 0\n\n"
        "def len (xs : List Nat) : Nat :=\n  match xs with\n  | .nil => 0\n  | .cons _ t => 1 + len t\n\n"
        "end Pick\n")
    rate = {u.name: (u.target, u.status) for u in c.uses_of("Pick.rate")}
    assert rate[".sgd"] == ("Pick.View.sgd", "corpus") and rate[".adam"] == ("Pick.View.adam", "corpus")
    length = {u.name: (u.target, u.status) for u in c.uses_of("Pick.len")}
    assert length[".nil"] == ("List.nil", "external") and length[".cons"] == ("List.cons", "external")


def _meant(c: Corpus, decl: str, written: str) -> list[tuple[str | None, str]]:
    """What each use of `written` (`.nil`, `x`) in `decl` was resolved to, in source order."""
    return [(u.target, u.status) for u in c.uses_of(decl) if u.name == written]


def _corpus_of(tmp_path: Path, package: str, text: str) -> Corpus:
    """The corpus of one Lean file of ours, `package/Basic.lean`, extracted with its source."""
    from bridge.extract import ExtractOptions, extract

    (tmp_path / "src" / package).mkdir(parents=True)
    (tmp_path / "src" / package / "Basic.lean").write_text(text, encoding="utf-8")
    extract(ExtractOptions(root=tmp_path / "src", out=tmp_path / "x", cache_dir=None))
    return Corpus.load(tmp_path / "x")


def test_resolution_visits_every_node_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The resolver fills trees in place; a node reached twice would be resolved again over its
    # own result. The parser shares nodes (`| a | b => rhs`, `∀ x y : T`, `∃ x y ∈ s`): each is
    # resolved once, or copied first. Over the fixture tree and a file of every sharing shape.
    from bridge import resolve

    shapes = _corpus_of(tmp_path, "Shapes",
        "namespace Shapes\n\ninductive K where\n  | a (n : Nat) | b (n : Nat) | c\n\n"
        "structure P where\n  v : Nat\n\nstructure Q where\n  v : Nat\n\n"
        "inductive PQ where\n  | p (x : P) | q (x : Q)\n\n"
        "def f (k : K) : Nat :=\n  match k with\n  | .a n | .b n => Nat.succ n\n  | .c => 0\n\n"
        "def g (e : PQ) : Nat :=\n  match e with\n  | .p x | .q x => Nat.succ x.v\n\n"
        "theorem h : ∀ x y : Nat, Nat.add x y = Nat.add y x := by omega\n\n"
        "theorem i (s : List Nat) : ∀ x y ∈ s, x = y ∨ x ≠ y := by omega\n\n"
        "theorem j (n : Nat) : .a n = K.a n := rfl\n\nend Shapes\n")
    visits: dict[int, int] = {}
    kept: list[object] = []  # alive, so that no id is reused
    term = resolve._Ctx.term

    def counted(self, t, env, expected=None):  # type: ignore[no-untyped-def]
        visits[id(t)] = visits.get(id(t), 0) + 1
        kept.append(t)
        return term(self, t, env, expected)

    monkeypatch.setattr(resolve._Ctx, "term", counted)
    for c in (shapes, _with_sources()):
        for name in c.decls:
            c.resolved(name)
    assert len(visits) > 3000 and max(visits.values()) == 1


def test_a_header_is_resolved_once_for_its_signature_and_its_declaration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Resolving `use` asks for `scale`'s signature (the expected types of its arguments). That
    # resolves `scale`'s binder types and statement where they stand in the file, and resolving
    # `scale` itself goes on from them: every text is parsed once, at its own line and column.
    from bridge import resolve

    c = _corpus_of(tmp_path, "Lib",
        "namespace Lib\n\nstructure V where\n  x : Int\n\n"
        "def scale (k : Nat)\n    (v : V) : V := { x := k * v.x }\n\n"
        "def use (w : V) : V := scale 2 w\n\nend Lib\n")
    parsed: list[tuple[str, int, int]] = []
    real = resolve.parse_term

    def counting(text, line=1, column=1, *rest):  # type: ignore[no-untyped-def]
        parsed.append((text, line, column))
        return real(text, line, column, *rest)

    monkeypatch.setattr(resolve, "parse_term", counting)
    c.resolved("Lib.use")
    assert c.signature("Lib.scale") == (["Nat", "Lib.V"], "Lib.V")
    scale = c.resolved("Lib.scale")
    assert [(b.type.line, b.type.column) for b in scale.binders if b.type] == [(6, 16), (7, 10)]
    assert scale.statement is not None and (scale.statement.line, scale.statement.column) == (7, 15)
    ours = [p for p in parsed if p[1] in (6, 7)]
    assert sorted(ours) == [("Nat", 6, 16), ("V", 7, 10), ("V", 7, 15), ("{ x := k * v.x }", 7, 20)]
    # (a field's type, `x : Int`, is parsed at 1:1 for `V.x`'s signature: members keep no header)
    assert len(parsed) == len(set(parsed)) and not [p for p in parsed if p[0] in ("Nat", "V") and p[1] == 1]


def test_a_leading_dot_name_takes_its_type_from_defaults_and_pipes_and_is_never_guessed(
        tmp_path: Path) -> None:
    # `.a` names a constructor of K and of L. A field's default has the field's type, and
    # `f <| x`, `f $ x`, `x |> f` give x the type of f's parameter. Where nothing gives the
    # type, the name stays unresolved rather than one of the two picked; a name only one
    # corpus type has (`.only`) is that one.
    c = _corpus_of(tmp_path, "Dots",
        "namespace Dots\n\ninductive K where\n  | a | b\n\ninductive L where\n  | a | only\n\n"
        "def f (k : K) : Nat := 0\n\n"
        "structure Cfg where\n  k : K := .a\n  l : L := .a\n\n"
        "def p1 : Nat := f <| .a\n\ndef p2 : Nat := f $ .a\n\ndef p3 : Nat := .a |> f\n\n"
        "def q : Nat := id .a\n\ndef r : Nat := id .only\n\nend Dots\n")

    def dots(name: str) -> list[tuple[str | None, str | None]]:
        return [(n.target, n.status) for t in c.resolved(name).trees() for n in walk(t) if isinstance(n, DotIdent)]

    assert dots("Dots.Cfg") == [("Dots.K.a", "corpus"), ("Dots.L.a", "corpus")]
    for p in ("Dots.p1", "Dots.p2", "Dots.p3"):
        assert dots(p) == [("Dots.K.a", "corpus")], p
    assert dots("Dots.q") == [(None, "unresolved")]
    assert dots("Dots.r") == [("Dots.L.only", "corpus")]


def test_a_leading_dot_name_prefers_the_type_its_signature_names_here(tmp_path: Path) -> None:
    # Two corpus types are called `TL`, each with a `.nil`. Where `.nil`'s type is unknown
    # (`id .nil`), a declaration whose signature names `TL` means the `TL` that name resolves
    # to in its own namespace; one whose signature names neither gets no guess.
    c = _corpus_of(tmp_path, "Two",
        "namespace A\n\ninductive TL where\n  | nil\n\ndef z (x : TL) : TL := id .nil\n\nend A\n\n"
        "namespace B\n\ninductive TL where\n  | nil\n\ndef z (x : TL) : TL := id .nil\n\nend B\n\n"
        "def w (n : Nat) : Nat := id .nil\n")
    for ns in ("A", "B"):
        assert _meant(c, f"{ns}.z", ".nil") == [(f"{ns}.TL.nil", "corpus")]
    assert _meant(c, "w", ".nil") == [(None, "unresolved")]


def test_a_leading_dot_name_looks_through_type_abbreviations(tmp_path: Path) -> None:
    # `abbrev Ctx := TL`: a `.nil` expected to be a Ctx is TL's, not the other `.nil` (of EL)
    # that the signature's words would otherwise prefer
    c = _corpus_of(tmp_path, "Abb",
        "namespace Abb\n\ninductive TL where\n  | nil\n\ninductive EL where\n  | nil\n\n"
        "abbrev Ctx := TL\n\ndef z (x : Ctx) (y : EL) : Nat :=\n  match x with\n  | .nil => 0\n\nend Abb\n")
    assert _meant(c, "Abb.z", ".nil") == [("Abb.TL.nil", "corpus")]


def test_field_notation_of_unknown_type_prefers_the_signatures_types_and_their_parents(
        tmp_path: Path) -> None:
    # `(id q).v`: the value's type is unknown. Two corpus structures called P have a field v;
    # the signature names this namespace's Q, which extends this namespace's P. Without such a
    # hint the field is unresolved: neither P.v picked, nor claimed to be from outside.
    c = _corpus_of(tmp_path, "Fld",
        "namespace A\n\nstructure P where\n  v : Nat\n\nstructure Q extends P where\n  w : Nat\n\n"
        "def get (q : Q) : Nat := (id q).v\n\nend A\n\n"
        "namespace B\n\nstructure P where\n  v : Nat\n\nend B\n\n"
        "def other (n : Nat) : Nat := (id n).v\n")
    assert _meant(c, "A.get", ".v") == [("A.P.v", "corpus")]
    assert _meant(c, "other", ".v") == [(None, "unresolved")]


def test_a_named_argument_takes_its_parameter_out_of_the_positional_ones(tmp_path: Path) -> None:
    # `act (s := .b) .a`: s is act's first explicit parameter, given by name: `.b` is an L (its
    # type), and `.a` fills the second one (a K), not the first (an L); the same through `<|`
    c = _corpus_of(tmp_path, "Nam",
        "namespace Nam\n\ninductive K where\n  | a | b\n\ninductive L where\n  | a | b\n\n"
        "def act (s : L) (k : K) : Nat := 0\n\n"
        "def p : Nat := act (s := .b) .a\n\ndef q : Nat := act (s := .b) <| .a\n\nend Nam\n")
    for name in ("Nam.p", "Nam.q"):
        assert [(u.target, u.status) for u in c.uses_of(name) if u.name.startswith(".")] == [
            ("Nam.L.b", "corpus"), ("Nam.K.a", "corpus")], name


def test_list_items_share_their_type_and_leading_dots_do_not_look_through_parents(tmp_path: Path) -> None:
    # `[K.a, .b]`: `.b` is a K like its neighbour (L has a `.b` too). And a `.b` of unknown type
    # does not become a constructor of a parent of a class the signature names (`[C α]`, C
    # extends L): a leading-dot name is a constant of its type's own namespace.
    c = _corpus_of(tmp_path, "Lst",
        "namespace Lst\n\ninductive K where\n  | a | b\n\ninductive L where\n  | a | b\n\n"
        "class C (α : Type) extends L where\n  x : Nat\n\n"
        "def ks : Nat := List.length [K.a, .b]\n\ndef u (α : Type) [C α] : Nat := id .b\n\nend Lst\n")
    assert _meant(c, "Lst.ks", ".b") == [("Lst.K.b", "corpus")]
    assert _meant(c, "Lst.u", ".b") == [(None, "unresolved")]


def test_a_declaration_resolved_without_keeping_is_the_same_and_not_kept() -> None:
    # `names` resolves each declaration once, counts it and drops it (keep=False)
    fresh, kept = Corpus.load(EXPORTS), Corpus.load(EXPORTS)
    name = f"{ALG}.Graph.seedScalarLoss"
    once = fresh.resolved(name, keep=False)
    assert fresh.resolved(name, keep=False) is not once  # not cached: resolved again
    want = kept.resolved(name)
    assert kept.resolved(name) is want
    dump = lambda r: [t.model_dump() for t in r.trees()]
    assert dump(once) == dump(want) and dump(once)
