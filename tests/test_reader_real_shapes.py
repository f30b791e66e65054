"""Reader regressions for shapes met in real library files (written in our own words)."""

from __future__ import annotations

import textwrap

from bridge.lean.reader import read_module
from bridge.models import ModuleExport


def read(src: str) -> ModuleExport:
    return read_module(textwrap.dedent(src), "T.lean", "T")


def test_anonymous_instances_with_the_same_class_get_distinct_names() -> None:
    # Two unnamed instances of one class at the same head: Lean appends `_1`, `_2` … to the
    # second and later ones rather than reusing the name.
    m = read(
        """
        namespace Grid
        class Nonempty' (g : Grid) : Prop where
          ok : True
        instance {a} (h : a > 0) : Nonempty' (.cell a) where
          ok := trivial
        instance {a} [Fact (a > 0)] : Grid.Nonempty' (.cell a) := ⟨trivial⟩
        instance {a} [Fact (a > 1)] : Nonempty' (Grid.cell a) := ⟨trivial⟩
        end Grid
        """
    )
    names = [d.name for d in m.declarations if d.kind == "instance"]
    assert names == ["Grid.instNonempty'Cell", "Grid.instNonempty'Cell_1", "Grid.instNonempty'Cell_2"]
    assert len({d.name for d in m.declarations}) == len(m.declarations)


def test_anonymous_instance_names_capitalize_constants_once() -> None:
    # A leading-dot constructor and a dotted constant both contribute their capitalized last
    # component; a constant repeated in the class type is named once; variables are left out.
    m = read(
        """
        instance : Marker .leaf := ⟨⟩
        instance : Combine Pair.mk Pair.mk := ⟨⟩
        instance {w : Wrap} : Combine Count Count Count := ⟨w.val⟩
        """
    )
    assert [d.name for d in m.declarations] == ["instMarkerLeaf", "instCombineMk", "instCombineCount"]
    assert all(d.anonymous for d in m.declarations)
