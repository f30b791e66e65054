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
