"""The spec value of a Lean declaration, from the generated reference modules.

`load_reference(full_name, domain, generated_dir)` returns a callable taking the declaration's
explicit binders positionally, in order; implicit binders are keyword-only and optional (shape
arguments are inferred from the tensors). `structure(full_name, domain)` returns the dataclass
of a Lean structure whose defaults are the Lean defaults converted to `domain`.
(docs/ARCHITECTURE.md §4.) Both read `generated_dir/manifest.json`, written by `generate`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bridge.vocab.domains import Domain
from bridge.vocab.runtime import load_path

DEFAULT_GENERATED = Path("generated")


class ReferenceError(LookupError):
    """No generated reference for a name (one line naming it and what to run)."""


_MANIFESTS: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def _references(manifest: Path) -> dict[str, Any]:
    """The manifest's `references`, parsed once per file version (the checker asks per chunk)."""
    try:
        st = manifest.stat()
    except FileNotFoundError:
        raise ReferenceError(
            f"{manifest}: missing (run `torchlean-bridge generate --out {manifest.parent}`)"
        ) from None
    version = (st.st_mtime_ns, st.st_size)
    hit = _MANIFESTS.get(manifest)
    if hit is None or hit[0] != version:
        hit = (version, json.loads(manifest.read_text("utf-8"))["references"])
        _MANIFESTS[manifest] = hit
    return hit[1]


def _entry(full_name: str, generated_dir: Path, kind: str) -> Any:
    refs = _references((generated_dir / "manifest.json").resolve())
    e = refs.get(full_name)
    if e is None or e["kind"] != kind:
        raise ReferenceError(f"no generated {kind} for `{full_name}` in {generated_dir} "
                             f"(see {generated_dir}/COVERAGE.md for what did not translate)")
    mod = load_path((generated_dir / e["file"]).resolve())
    return getattr(mod, e["py"])


def load_reference(full_name: str, domain: Domain, generated_dir: Path = DEFAULT_GENERATED) -> Callable[..., Any]:
    """The generated function for `full_name`, with the domain bound."""
    return partial(_entry(full_name, Path(generated_dir), "function"), domain)


_STRUCT_CACHE: dict[tuple[str, str, str], type] = {}


def structure(full_name: str, domain: Domain, generated_dir: Path = DEFAULT_GENERATED) -> type:
    """The dataclass of structure `full_name`, its field defaults the Lean defaults in `domain`.

    A subclass of the generated class (so the generated code's `dataclasses.replace` and field
    access work on its instances); fields without a Lean default stay required keywords."""
    key = (full_name, repr(domain), str(Path(generated_dir).resolve()))
    hit = _STRUCT_CACHE.get(key)
    if hit is not None:
        return hit
    base = _entry(full_name, Path(generated_dir), "structure")
    defaults = base.defaults(domain)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for f in dataclasses.fields(base):
        if f.name in defaults:
            fields.append((f.name, Any, dataclasses.field(default_factory=partial(_value, defaults[f.name]))))
        else:
            fields.append((f.name, Any))
    cls = dataclasses.make_dataclass(base.__name__, fields, bases=(base,), kw_only=True, eq=False)
    cls.__doc__ = base.__doc__
    _STRUCT_CACHE[key] = cls
    return cls


def _value(v: Any) -> Any:
    return v.copy() if hasattr(v, "copy") else v
