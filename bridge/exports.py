"""Reading exports back: schema-version checks and one-line errors for bad files."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bridge.gcpause import gc_paused
from bridge.models import SCHEMA_VERSION, ExportIndex, ModuleExport

DEFAULT_EXPORTS = Path("lean_exports")
_M = TypeVar("_M", bound=BaseModel)


class ExportError(Exception):
    """A missing, corrupt or foreign export; the message is one line naming the file."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"{path}: no such export file (run `torchlean-bridge extract` first)") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot read export: {exc}") from None


def readable_version(found: object) -> bool:
    """An export of this schema version can be read: the same major version, and a minor one
    no newer than ours (a minor version only adds fields, with defaults)."""
    if not isinstance(found, str):
        return False
    major, _, minor = found.partition(".")
    ours_major, _, ours_minor = SCHEMA_VERSION.partition(".")
    return major == ours_major and minor.isdigit() and int(minor) <= int(ours_minor)


def spanless_note(versions: Iterable[str], where: Path) -> str | None:
    """A one-line note when some exports are of a schema before 1.1, whose text fields carry
    no source spans: their terms are still read and resolved, at approximate positions."""
    old = sorted({v for v in versions if v != SCHEMA_VERSION})
    if not old:
        return None
    return (f"note: {where}: exports of schema {', '.join(old)} carry no source spans; term positions "
            "fall back to each declaration's name (re-run `torchlean-bridge extract` for exact ones)")


def _check_version(found: object, path: Path) -> None:
    if not readable_version(found):
        raise ExportError(
            f"{path}: export schema version {found!r}, but this torchlean-bridge reads schema "
            f"version {SCHEMA_VERSION!r} (and older {SCHEMA_VERSION.partition('.')[0]}.x); "
            "re-run `torchlean-bridge extract` with this version"
        )


def _diagnose(raw: bytes, path: Path) -> dict:
    """The parsed JSON of an export that failed validation, or the one-line error that explains
    the failure better than the validation error: not UTF-8, invalid JSON, another schema."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path}: cannot read export: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}:{exc.lineno}:{exc.colno}: corrupt export (invalid JSON: {exc.msg})") from None
    if not isinstance(data, dict):
        raise ExportError(f"{path}: corrupt export (top level is not an object)")
    _check_version(data.get("schema_version"), path)
    return data


def _validate(model: type[_M], path: Path) -> _M:
    """Parse and validate in one step (pydantic's JSON parser: about twice as fast as json.loads
    followed by validation); on failure, name the first problem in one line."""
    raw = _read(path)
    try:
        out = model.model_validate_json(raw)
    except ValidationError:
        try:
            out = model.model_validate(_diagnose(raw, path))  # for the error message, in JSON terms
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise ExportError(f"{path}: corrupt export at '{where}': {err['msg']}") from None
    _check_version(getattr(out, "schema_version", None), path)
    return out


def read_module_export(path: Path) -> ModuleExport:
    return _validate(ModuleExport, path)


def read_index(directory: Path) -> ExportIndex:
    return _validate(ExportIndex, directory / "index.json")


def load_exports(directory: Path) -> tuple[ExportIndex, list[ModuleExport]]:
    """The index and every module export it lists, in index order."""
    if not directory.is_dir():
        raise ExportError(f"{directory}: no such export directory (run `torchlean-bridge extract ROOT --out {directory}`)")
    index = read_index(directory)
    with gc_paused(freeze=True):
        modules = [read_module_export(directory / f"{e.module}.json") for e in index.modules]
    return index, modules
