"""Lean names → Python identifiers, deterministically.

A Lean name that is already a valid, NFKC-stable Python identifier (`lr`, `α`, `β1`, `μ`, `ε`,
`ρ`, `Γ`) is kept: Python compares identifiers after NFKC normalisation, so a name that changes
under NFKC (`ﬁ`, the micro sign `µ`, subscript digits in some forms) could silently alias
another; such characters, primes, `?`, `!` and anything else invalid are spelled out
(`s'` → `s_q`, `ss₁` → `ss_2081`). Python keywords and names that would clash with the
generated code's own (leading `_`) get a suffix. The same Lean name always gives the same
Python name, with no dependence on what else is in scope.
"""

from __future__ import annotations

import keyword
import unicodedata

_SPELLED = {"'": "_q", "?": "_p", "!": "_b", ".": "__", "«": "", "»": ""}


def py_ident(name: str) -> str:
    """A valid Python identifier for a Lean local or field name."""
    if _ok(name) and not name.startswith("_"):
        return name + "_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name
    out = []
    for i, ch in enumerate(name):
        if ch in _SPELLED:
            out.append(_SPELLED[ch])
        elif _ok(ch) or (i and _ok("a" + ch)):
            out.append(ch)
        else:
            out.append(f"_{ord(ch):04x}")
    res = "".join(out) or "x"
    if res.startswith("_") or not _ok(res[0]):
        res = "v" + res
    if keyword.iskeyword(res) or keyword.issoftkeyword(res):
        res += "_"
    return res


def _ok(s: str) -> bool:
    return s.isidentifier() and unicodedata.normalize("NFKC", s) == s


def py_global(full_name: str) -> str:
    """A module-level Python name for a Lean full name (`Optim.Adam.update` → `Optim__Adam__update`).

    Dots become `__`; a `__` inside a component is spelled `_5f_` first, so distinct Lean names
    never meet."""
    parts = [py_ident(p).replace("__", "_5f_") for p in full_name.split(".")]
    return "__".join(parts)


def module_stem(module: str) -> str:
    """`NN.Runtime.Optim.Optimizers` → `NN_Runtime_Optim_Optimizers` (file names)."""
    return py_global(module)
