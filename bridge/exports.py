"""Reading exports back: schema-version checks and one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from bridge.models import SCHEMA_VERSION, ExportIndex, ModuleExport

DEFAULT_EXPORTS = Path("lean_exports")
_M = TypeVar("_M", bound=BaseModel)


class ExportError(Exception):
    """A missing, corrupt or foreign export; the message is one line naming the file."""


def _load(path: Path) -> dict:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExportError(f"{path}: no such export file (run `torchlean-bridge extract` first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: cannot read export: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}:{exc.lineno}:{exc.colno}: corrupt export (invalid JSON: {exc.msg})") from None
    if not isinstance(data, dict):
        raise ExportError(f"{path}: corrupt export (top level is not an object)")
    found = data.get("schema_version")
    if found != SCHEMA_VERSION:
        raise ExportError(
            f"{path}: export schema version {found!r}, but this torchlean-bridge reads schema "
            f"version {SCHEMA_VERSION!r}; re-run `torchlean-bridge extract` with this version"
        )
    return data


def _validate(model: type[_M], data: dict, path: Path) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ExportError(f"{path}: corrupt export at '{where}': {err['msg']}") from None


def read_module_export(path: Path) -> ModuleExport:
    return _validate(ModuleExport, _load(path), path)


def read_index(directory: Path) -> ExportIndex:
    return _validate(ExportIndex, _load(directory / "index.json"), directory / "index.json")


def load_exports(directory: Path) -> tuple[ExportIndex, list[ModuleExport]]:
    """The index and every module export it lists, in index order."""
    if not directory.is_dir():
        raise ExportError(f"{directory}: no such export directory (run `torchlean-bridge extract ROOT --out {directory}`)")
    index = read_index(directory)
    modules = [read_module_export(directory / f"{e.module}.json") for e in index.modules]
    return index, modules
