"""The export schema: pydantic models for everything written to `lean_exports/`.

These models are the single schema of the project. `SCHEMA_VERSION` changes
whenever a field changes meaning or disappears; readers of an export refuse
another version with one line naming both (see `bridge.exports`).

Conventions: lines are 1-based, columns are 1-based (counted in characters),
byte offsets are 0-based offsets into the UTF-8 encoded file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.1"  # 1.1: `*_at` spans of the text fields (exact positions for the term parser)

BinderInfo = Literal["explicit", "implicit", "strict_implicit", "instance"]
DeclKind = Literal[
    "def",
    "theorem",
    "lemma",
    "abbrev",
    "instance",
    "example",
    "opaque",
    "axiom",
    "structure",
    "class",
    "inductive",
    "alias",
]
ValueForm = Literal["none", "term", "alternatives", "where"]
Severity = Literal["error", "warning"]
# Where a text field is written in its file: (line, column, start_byte, end_byte) of the
# verbatim source slice (line and column of its first character, 1-based; bytes 0-based, end
# exclusive). The text fields themselves have their whitespace collapsed; layout matters to
# Lean's terms (`let x := v` then the body on the next line), so the term parser reads the
# slice, and places every node exactly.
Span = tuple[int, int, int, int]
_SPAN = "(line, column, start_byte, end_byte) of the text's verbatim slice in the file."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Model):
    """Extent of a whole command: docstring and attributes included."""

    start_line: int
    start_column: int
    start_byte: int
    end_line: int
    end_column: int
    end_byte: int


class Binder(_Model):
    """One binder group as written: `(x y : T := d)`, `{α}`, `⦃h⦄`, `[inst : C α]`."""

    names: list[str] = Field(description="Bound names; empty for an anonymous instance binder.")
    type: str | None = None
    info: BinderInfo = "explicit"
    default: str | None = Field(default=None, description="`:= v` default value, as text.")
    auto_param: str | None = Field(default=None, description="`:= by tac` auto-param tactic, as text.")
    from_variable: bool = Field(default=False, description="Taken from a section `variable`.")
    type_at: Span | None = Field(default=None, description=_SPAN)
    default_at: Span | None = Field(default=None, description=_SPAN)


class Hashes(_Model):
    """SHA-256 digests (hex) over the token texts, whitespace and comments ignored."""

    statement: str
    value: str
    doc: str


class StructField(_Model):
    """A field of a structure or class (`name : T := default`, with its own doc)."""

    name: str
    full_name: str
    binders: list[Binder] = []
    type: str | None = None
    default: str | None = None
    docstring: str | None = None
    name_line: int
    type_at: Span | None = Field(default=None, description=_SPAN)
    default_at: Span | None = Field(default=None, description=_SPAN)


class Constructor(_Model):
    """A constructor of an inductive type (`| name binders : T`)."""

    name: str
    full_name: str
    binders: list[Binder] = []
    type: str | None = None
    docstring: str | None = None
    name_line: int
    type_at: Span | None = Field(default=None, description=_SPAN)


class OpenDirective(_Model):
    """One namespace of an `open` command, as written (resolution happens later)."""

    namespace: str
    scoped: bool = False
    only: list[str] = []
    hiding: list[str] = []
    renaming: dict[str, str] = {}


class Scope(_Model):
    """The scope a declaration sits in: namespace, `open`s and `export`s in force."""

    namespace: str
    opens: list[OpenDirective] = []
    exports: list[OpenDirective] = []


class Declaration(_Model):
    name: str = Field(description="Fully qualified name.")
    kind: DeclKind
    name_line: int = Field(description="1-based line of the declared name (of the keyword when anonymous).")
    name_column: int
    range: Range
    docstring: str | None = None
    attributes: list[str] = Field(default=[], description="As written, e.g. `simp`, `extern \"f\"`.")
    modifiers: list[str] = []
    anonymous: bool = Field(default=False, description="Name synthesised (anonymous instance, example).")
    binders: list[Binder] = []
    type: str | None = None
    value: str | None = Field(default=None, description="Body text; for theorems the proof.")
    value_form: ValueForm = "none"
    termination_by: str | None = None
    decreasing_by: str | None = None
    extends: list[str] = []
    fields: list[StructField] = []
    constructors: list[Constructor] = []
    deriving: list[str] = []
    parent: str | None = Field(default=None, description="For `where` auxiliary definitions.")
    scope: int = Field(description="Index into the module's `scopes`.")
    doc_url: str = ""
    source_url: str = ""
    hashes: Hashes
    type_at: Span | None = Field(default=None, description=_SPAN)
    value_at: Span | None = Field(default=None, description=_SPAN)


class Diagnostic(_Model):
    path: str
    line: int
    column: int
    severity: Severity = "error"
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


class ModuleDoc(_Model):
    text: str
    line: int


class OtherCommand(_Model):
    """A command recorded but not interpreted: notation, macro, syntax, #eval, attribute ..."""

    kind: str
    head: str = Field(description="The command's text, whitespace collapsed, cut at 200 characters.")
    line: int


class ModuleExport(_Model):
    schema_version: str = SCHEMA_VERSION
    tool_version: str
    module: str
    path: str
    source_sha256: str
    imports: list[str] = []
    module_docs: list[ModuleDoc] = []
    declarations: list[Declaration] = []
    scopes: list[Scope] = []
    commands: list[OtherCommand] = []
    universes: list[str] = []
    diagnostics: list[Diagnostic] = []
    notes: list[str] = Field(default=[], description="E.g. why a file was skipped (Verso documents).")


class IndexEntry(_Model):
    module: str
    path: str
    source_sha256: str
    declarations: int
    diagnostics: int
    kinds: dict[str, int] = Field(default={}, description="Declarations per kind.")


class ExportIndex(_Model):
    schema_version: str = SCHEMA_VERSION
    tool_version: str
    root: str = Field(description="The source root as given, relative to the working directory when possible.")
    git_commit: str | None = None
    lean_toolchain: str | None = None
    docs_base: str
    source_base: str
    source_ref: str
    modules: list[IndexEntry] = []
    declaration_counts: dict[str, int] = Field(default={}, description="Per declaration kind.")
    diagnostics: int = 0
