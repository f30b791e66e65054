"""Runtimes the checker drives. Third-party packages add their own through the entry-point group
`torchlean_bridge.runtimes`: each entry point is a callable returning a list of
`bridge.bindings.Binding` objects (or a path to a bindings JSON file) whose `runtime` dotted paths
it can import; see `discover_bindings`."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

ENTRY_POINT_GROUP = "torchlean_bridge.runtimes"


def discover_bindings() -> list[Any]:
    """Bindings contributed by installed packages (entry-point group `torchlean_bridge.runtimes`)."""
    from bridge.bindings import Binding, load_bindings

    out: list[Any] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        provided = ep.load()()
        if isinstance(provided, (str, Path)):
            out.extend(load_bindings(Path(provided)))
        else:
            out.extend(b if isinstance(b, Binding) else Binding.model_validate(b) for b in provided)
    return out
