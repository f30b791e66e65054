"""Our TorchLean-shaped fixture tree and adversarial files, read end to end.

`EXPECTED.md` in each fixture folder lists, per file, every declaration (full
name, kind, line of the name), the names that only occur inside comments or
strings and must not appear, and the constructors/fields Lean creates.
"""

from __future__ import annotations

import gc
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.extract import read_file_export
from bridge.lean.reader import read_module
from bridge.models import ModuleExport

FIXTURES = Path(__file__).parent / "fixtures"
STEP = "NN/Proofs/Autograd/Training/StepAlgebra.lean"
DOCS = "https://lean-dojo.github.io/TorchLean/docs/NN/Proofs/Autograd/Training/StepAlgebra.html#"


def read_fixture(root: str, rel: str) -> ModuleExport:
    return read_file_export((FIXTURES / root / rel).read_bytes(), rel)


def parse_expected(md: Path) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = {}
    cur = None
    for line in md.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^## (\S+\.lean)", line)
        if m:
            cur = out.setdefault(m.group(1), {"rows": [], "absent": [], "created": []})
            continue
        if cur is None:
            continue
        m = re.match(r"^\| `([^`]+)` \| (\w+) \| (\d+) \|", line) or re.match(
            r"^\| (<[^>]+>)[^|]*\| (\w+) \| (\d+) \|", line
        )
        if m:
            cur["rows"].append((m.group(1), m.group(2), int(m.group(3))))
        elif line.startswith("Must not appear:"):
            cur["absent"] = re.findall(r"`([^`]+)`", line)
        elif line.startswith("Also created by Lean"):
            cur["created"] = re.findall(r"`([^`]+)`", line)
    return out


def test_step_algebra_golden() -> None:
    mod = read_fixture("torchlean", STEP)
    assert mod.module == "NN.Proofs.Autograd.Training.StepAlgebra"
    assert mod.imports == ["NN.Proofs.Autograd.Tape.Algebra.Soundness"]
    got = [(d.name, d.kind, d.name_line, d.attributes) for d in mod.declarations]
    assert got == [
        ("Proofs.Autograd.Algebra.Graph.seedScalarLoss", "def", 34, []),
        ("Proofs.Autograd.Algebra.Graph.scalarLoss_grad_correct", "theorem", 41, []),
        ("Proofs.Autograd.Algebra.SGD.step", "def", 56, []),
        ("Proofs.Autograd.Algebra.SGD.step_nil", "theorem", 60, ["simp"]),
        ("Proofs.Autograd.Algebra.SGD.step_cons", "theorem", 64, ["simp"]),
    ]
    by = {d.name.rsplit(".", 1)[1]: d for d in mod.declarations}

    def bs(n: str) -> list[tuple[list[str], str | None, str, bool]]:
        return [(b.names, b.type, b.info, b.from_variable) for b in by[n].binders]

    graph_vars = [
        (["α"], "Type", "implicit", True),
        ([], "CommSemiring α", "instance", True),
        (["Δ"], "Type", "implicit", True),
        (["Γ"], "List Shape", "implicit", True),
        (["ss"], "List Shape", "implicit", False),
        (["g"], "Graph Δ Γ (ss ++ [Shape.scalar])", "explicit", False),
    ]
    assert bs("seedScalarLoss") == graph_vars + [(["x"], "TList α Γ", "explicit", False)]
    assert bs("scalarLoss_grad_correct") == graph_vars
    sgd_vars = [(["α"], "Type", "implicit", True), ([], "CommRing α", "instance", True)]
    assert bs("step") == sgd_vars + [
        (["Γ"], "List Shape", "implicit", False),
        (["params", "grads"], "TList α Γ", "explicit", False),
        (["lr"], "α", "explicit", False),
    ]
    assert bs("step_nil") == sgd_vars + [(["lr"], "α", "explicit", False)]
    assert bs("step_cons") == sgd_vars + [
        (["s"], "Shape", "implicit", False),
        (["Γ"], "List Shape", "implicit", False),
        (["p", "g"], "Tensor α s", "explicit", False),
        (["ps", "gs"], "TList α Γ", "explicit", False),
        (["lr"], "α", "explicit", False),
    ]
    assert by["step"].type == "TList α Γ" and by["step"].value == "TList.sub params (TList.scale lr grads)"
    assert by["seedScalarLoss"].type == "TList α (Γ ++ (ss ++ [Shape.scalar]))"
    assert by["step_nil"].type == "step (Γ := []) TList.nil TList.nil lr = TList.nil"
    assert by["step_cons"].value == "by\n  rfl"
    # the `let` ends at its line break, so a layout-sensitive type keeps its lines
    assert by["scalarLoss_grad_correct"].type.startswith("∀ (x dx : TList α Γ) (d : Δ),\n      let seed := seedScalarLoss g x\n")
    scope = mod.scopes[by["step"].scope]
    assert scope.namespace == "Proofs.Autograd.Algebra.SGD"
    assert [o.namespace for o in scope.opens] == ["Spec", "Tensor", "TensorAlgebra"]
    assert all(d.docstring for d in mod.declarations)
    # URLs are attached at extraction (see test_extract); their shape:
    from bridge.extract import _attach_urls_data

    data = mod.model_dump()
    _attach_urls_data(data, "https://lean-dojo.github.io/TorchLean/docs", "https://github.com/lean-dojo/TorchLean", "main")
    urls = {d["name"].rsplit(".", 1)[1]: d for d in data["declarations"]}
    assert urls["step"]["doc_url"] == DOCS + "Proofs.Autograd.Algebra.SGD.step"
    assert urls["step_cons"]["source_url"].endswith(f"/blob/main/{STEP}#L64")


@pytest.mark.parametrize("root", ["torchlean", "adversarial"])
def test_every_expected_declaration_is_found(root: str) -> None:
    expected = parse_expected(FIXTURES / root / "EXPECTED.md")
    assert len(expected) >= 10
    for rel, want in expected.items():
        mod = read_fixture(root, rel)
        got = {(d.name, d.kind, d.name_line) for d in mod.declarations}
        anon = {(d.kind, d.name_line) for d in mod.declarations if d.anonymous}
        for name, kind, line in want["rows"]:
            if name.startswith("<"):
                assert (("example" if "example" in name else "instance"), line) in anon, (rel, name, line)
            else:
                assert (name, kind, line) in got, (rel, name, kind, line)
        names = {d.name for d in mod.declarations}
        for bad in want["absent"]:
            assert not any(n == bad or n.endswith("." + bad) for n in names), (rel, bad)
        created = {f.full_name for d in mod.declarations for f in d.fields} | {
            c.full_name for d in mod.declarations for c in d.constructors
        }
        assert set(want["created"]) <= created, (rel, set(want["created"]) - created)


def test_fixture_tree_reads_without_diagnostics() -> None:
    for f in sorted((FIXTURES / "torchlean").rglob("*.lean")):
        rel = f.relative_to(FIXTURES / "torchlean").as_posix()
        assert read_fixture("torchlean", rel).diagnostics == [], rel


def _all_fixture_texts() -> list[str]:
    return [
        f.read_bytes().decode("utf-8", errors="replace") for f in sorted(FIXTURES.rglob("*.lean"))
    ]


_TEXTS = _all_fixture_texts()


def _assert_sane(mod: ModuleExport) -> None:
    assert not any("internal reader error" in d.message for d in mod.diagnostics), mod.diagnostics
    for d in mod.declarations:
        assert d.name and d.range.start_line <= d.name_line <= d.range.end_line


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_text_never_raises(src: str) -> None:
    _assert_sane(read_module(src, "R.lean"))


_LEAN_BITS = [
    "def ", "theorem ", "structure ", "inductive ", "instance ", "where", ":=", "|", "(", ")", "{", "}",
    "[", "]", "@[simp]", "/--", "-/", "/-", "/-!", "namespace A", "end", "section", "variable", "open X in",
    "\n", "\n  ", " ", "x", "α", ":", "→", "\"", "'", "s!\"{", "«", "»", "deriving", "by", "let rec",
    "mutual", "omit [A] in", "include x", "termination_by", "#eval", "private", "noncomputable section",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_LEAN_BITS), max_size=80).map("".join))
def test_lean_shaped_noise_never_raises(src: str) -> None:
    _assert_sane(read_module(src, "N.lean"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_fixtures_never_raise(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(_TEXTS))
    for _ in range(data.draw(st.integers(1, 4))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        op = data.draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + data.draw(st.sampled_from(_LEAN_BITS)) + text[i:]
        else:
            text = text[:j] + text[i:j] + text[j:]
    _assert_sane(read_module(text, "M.lean"))


_PATHOLOGICAL = {
    "unclosed parens": lambda n: "def f := " + "(" * n,
    "unclosed attributes": lambda n: "@[simp " * n,
    "doc comments without declarations": lambda n: "/-- d -/\n" * n,
    "one long line of bars": lambda n: "inductive T : Type " + "| c " * n,
    "deep nesting": lambda n: "def f := " + "(" * n + ")" * n,
    "many declarations": lambda n: "".join(f"theorem t{i} : True := trivial\n" for i in range(n // 4)),
}


@pytest.mark.parametrize("shape", sorted(_PATHOLOGICAL))
def test_reading_time_grows_linearly(shape: str) -> None:
    """A complexity guard, not a speed claim: 8x the input must cost well under 64x
    (quadratic) the time. CPU time, best of five, with the cyclic garbage collector paused
    (as extraction's workers run): a collection or a busy neighbour in one run is noise."""
    make = _PATHOLOGICAL[shape]

    def cost(n: int) -> float:
        text = make(n)
        best = float("inf")
        for _ in range(5):
            gc.disable()
            try:
                t0 = time.process_time()
                mod = read_module(text, "P.lean")
                best = min(best, time.process_time() - t0)
            finally:
                gc.enable()
            _assert_sane(mod)
        return best

    small, big = cost(2000), cost(16000)
    assert big < 24 * max(small, 1e-3), (shape, small, big)
