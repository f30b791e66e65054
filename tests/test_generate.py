"""generate: determinism, --check, injection safety, and a changed Lean body flowing through."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bridge.cli import main
from bridge.extract import ExtractOptions, extract
from bridge.generate import _pydoc, generate, render
from bridge.translate.names import py_global, py_ident

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "torchlean"


def test_render_is_deterministic_and_stamped() -> None:
    a = render(ROOT / "lean_exports")
    b = render(ROOT / "lean_exports")
    assert a == b
    for name, text in a.items():
        if name.endswith(".py"):
            ast.parse(text)
            assert "do not edit" in text and "0." in text


def test_check_passes_on_committed_tree_and_fails_after_a_change(tmp_path: Path) -> None:
    assert main(["generate", "--check", "--exports", str(ROOT / "lean_exports"), "--out", str(ROOT / "generated")]) == 0
    out = tmp_path / "gen"
    shutil.copytree(ROOT / "generated", out, ignore=shutil.ignore_patterns("__pycache__"))
    (out / "ref_NN__Runtime__Optim__Optimizers.py").write_text("# edited\n")
    (out / "test_extra_thing.py").write_text("")
    (out / "COVERAGE.md").unlink()
    res = generate(ROOT / "lean_exports", out, check=True)
    assert res.stale == ["ref_NN__Runtime__Optim__Optimizers.py"]
    assert res.missing == ["COVERAGE.md"] and res.extra == ["test_extra_thing.py"]
    assert main(["generate", "--check", "--exports", str(ROOT / "lean_exports"), "--out", str(out)]) == 1
    assert main(["generate", "--exports", str(ROOT / "lean_exports"), "--out", str(out)]) == 0
    assert generate(ROOT / "lean_exports", out, check=True).stale == []
    assert not (out / "test_extra_thing.py").exists()


NASTY = ['"""', "a\\b", "{{ x }}", "{% if %}", "\u2028", "\x00", "\ud800", "'''", 'end"', "é\u0301", "\r\n"]


def test_docstrings_and_names_are_injection_safe() -> None:
    for s in NASTY:
        text = "x" + s + "y" + s
        src = f"def f():\n    {_pydoc([text])}\n"
        tree = ast.parse(src)
        doc = ast.get_docstring(tree.body[0], clean=False)  # type: ignore[arg-type]
        assert doc is not None and doc.rstrip("\n ").startswith("x")
        assert "".join(doc.split()) == "".join(text.split())  # same text, up to the indentation
    for name in ["class", "α.β", "a'b", "x?", "import", "__init__", "ﬁ", "None", "True"]:
        for p in (py_ident(name), py_global(name)):
            ast.parse(f"{p} = 1")


def _extract(src: Path, out: Path, cache: Path) -> None:
    extract(ExtractOptions(root=src, out=out, cache_dir=cache))


def _pytest(out: Path, k: str) -> int:
    """Run the generated StepAlgebra tests only, with the generated conftest's `fast` hypothesis
    profile: the same derandomized examples, no shrinking (we only need pass/fail here)."""
    target = out / "test_NN__Proofs__Autograd__Training__StepAlgebra.py"
    env = {**os.environ, "TORCHLEAN_BRIDGE_HYPOTHESIS_PROFILE": "fast"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(target), "-k", k],
                       capture_output=True, text=True, cwd=out, env=env, check=False)
    return r.returncode


def test_changed_sgd_step_changes_reference_and_fails_step_cons(tmp_path: Path) -> None:
    src = tmp_path / "tl"
    shutil.copytree(FIXTURE, src)
    f = src / "NN/Proofs/Autograd/Training/StepAlgebra.lean"
    orig = f.read_text("utf-8")
    f.write_text(orig.replace("TList.sub params (TList.scale lr grads)", "TList.sub params (TList.scale (lr*2) grads)"))
    ex, out, cache = tmp_path / "ex", tmp_path / "gen", tmp_path / "cache"
    _extract(src, ex, cache)
    generate(ex, out)
    ref = (out / "ref_NN__Proofs__Autograd__Training__StepAlgebra.py").read_text("utf-8")
    assert "(lr * _D.scalar(2))" in ref  # `2` at α (lr : α): a domain scalar
    assert "TORCHLEAN_BRIDGE_HYPOTHESIS_PROFILE" in (out / "conftest.py").read_text("utf-8")
    assert _pytest(out, "step_cons") == 1
    f.write_text(orig)
    _extract(src, ex, cache)  # only the restored file is read again
    generate(ex, out)
    assert "(lr * _D.scalar(2))" not in (out / "ref_NN__Proofs__Autograd__Training__StepAlgebra.py").read_text("utf-8")
    assert _pytest(out, "step_cons or step_nil") == 0


CHAIN = {  # a failure that reaches its users one pass at a time (modules translate in this order)
    "Chain/A.lean": "namespace Chain\n\ndef c (x : Nat) : Nat := b x * 2\n\ntheorem c_self (x : Nat) : c x = c x := rfl\n\n"
                    "theorem c_odd (x : Nat) : c x = Nat.frobnicate x := rfl\n\n"
                    "def d (x : Nat) : Nat := x + 3\n\ntheorem d_pos (x : Nat) : d x = x + 3 := rfl\n\nend Chain\n",
    "Chain/B.lean": "namespace Chain\n\ndef b (x : Nat) : Nat := a x + 1\n\nend Chain\n",
    "Chain/C.lean": "namespace Chain\n\ndef a (x : Nat) : Nat := Nat.frobnicate x\n\nend Chain\n",
}


def test_later_passes_translate_again_only_what_a_new_failure_touches(tmp_path: Path) -> None:
    from bridge.exports import load_exports
    from bridge.generate import Generator
    from bridge.resolve import Corpus

    for rel, text in CHAIN.items():
        (tmp_path / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / rel).write_text(text, encoding="utf-8")
    extract(ExtractOptions(root=tmp_path / "src", out=tmp_path / "x", cache_dir=None))
    index, modules = load_exports(tmp_path / "x")

    def run(memo: bool) -> tuple[list[object], dict[str, int]]:
        gen = Generator(modules, Corpus(modules, Path(index.root)))
        counts: dict[str, int] = {}
        once = gen._once

        def counted(name: str, translate):  # type: ignore[no-untyped-def]
            def tr(watch: set[str]) -> tuple[str, object]:
                counts[name] = counts.get(name, 0) + 1
                return translate(watch)  # type: ignore[no-any-return]
            if not memo:
                return tr({name})
            return once(name, tr)

        gen._once = counted  # type: ignore[method-assign]
        outs = gen.run()
        return [(o.module, o.failed, o.functions, o.tests, o.untested)
                for o in outs], counts

    fresh, every = run(memo=False)
    memo, once = run(memo=True)
    assert memo == fresh  # the same outputs as translating everything in every pass
    failed = {n: r for _, fs, _, _, _ in memo for n, r in fs}
    assert failed["Chain.b"].startswith("needs `Chain.a`") and failed["Chain.c"].startswith("needs `Chain.b`")
    untested = {n: r for _, _, _, _, u in memo for n, r in u}
    assert list(untested) == ["Chain.c_self", "Chain.c_odd"]
    # c_odd first failed on `Nat.frobnicate`; once c fails, on c, which it meets first
    assert untested["Chain.c_odd"].startswith("needs `Chain.c`")
    assert every["Chain.d"] == 4  # four passes: a, then b, c and c_self fail one pass after another
    # d and d_pos touch no failure: translated once. The others again in the pass after one they
    # watch (their callees, themselves) failed: a fails in pass 1 (then recorded as failed in 2),
    # b in 2 (3), c in 3 (4); c_self is translated in pass 1 and becomes untested in pass 4.
    assert once == {"Chain.d": 1, "Chain.d_pos": 1, "Chain.a": 2, "Chain.b": 3, "Chain.c": 3, "Chain.c_self": 2,
                    "Chain.c_odd": 2}
