"""Reports of a check run: JSON, Markdown and one static HTML page, every row linked to the Lean
doc page and source line of its spec (from lean_exports) and naming its generated test."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from bridge.exports import ExportError, load_exports


def spec_links(exports_dir: Path) -> dict[str, dict[str, str]]:
    """Full name -> {doc_url, source_url, module} for every exported declaration."""
    try:
        _, modules = load_exports(exports_dir)
    except ExportError:
        return {}
    out: dict[str, dict[str, str]] = {}
    for m in modules:
        for d in m.declarations:
            out[d.name] = {"doc_url": d.doc_url, "source_url": d.source_url, "module": m.module}
    return out


def generated_test(full_name: str, module: str, generated_dir: Path = Path("generated")) -> str:
    """The generated test that covers `full_name`: the test module of its Lean module."""
    stem = module.replace(".", "_")
    for cand in sorted(generated_dir.glob(f"**/test_*{stem}*.py")) if generated_dir.is_dir() else []:
        if full_name in cand.read_text(encoding="utf-8", errors="replace"):
            return f"{cand.as_posix()}"
    return f"generated/test_{stem}.py (not generated yet)"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


_MD_HEAD = "| binding | implementation | device | dtype | lr | verdict | status | max ulp | cases | spec |\n" \
           "|---|---|---|---|---|---|---|---|---|---|\n"

_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>torchlean-bridge check</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}
.violation,.error{background:#fdd}.rounding{background:#ffd}.exact{background:#dfd}</style></head><body>
<h1>torchlean-bridge check</h1><p>{{ summary }}</p>
<table><tr><th>binding</th><th>implementation</th><th>device</th><th>dtype</th><th>lr</th><th>verdict</th>
<th>status</th><th>value classes</th><th>convention</th><th>max ulp</th><th>cases</th><th>spec</th><th>generated test</th><th>first offender</th></tr>
{% for r in rows %}<tr class="{{ r.verdict }}"><td>{{ r.binding }}{% if r.mutant %} [mutant {{ r.mutant }}]{% endif %}</td>
<td>{{ r.implementation }}</td><td>{{ r.device }}</td><td>{{ r.dtype }}</td><td>{{ r.lr_kind }}</td>
<td>{{ r.verdict }}</td><td>{{ r.status }}{% if r.reason %}: {{ r.reason }}{% endif %}{% if r.link %} (<a href="{{ r.link }}">link</a>){% endif %}</td>
<td>{{ r.classes_text }}{% if r.fixed_entries %}; fixed entries: {{ r.fixed_entries|join(", ") }}{% endif %}</td>
<td>{{ r.convention }}{% if r.note %}: {{ r.note }}{% endif %}</td><td>{{ r.max_ulp }}</td><td>{{ r.cases }}</td>
<td><a href="{{ r.doc_url }}">{{ r.spec }}</a> (<a href="{{ r.source_url }}">source</a>)</td>
<td>{{ r.generated_test }}</td><td><code>{{ r.first_text }}</code>{{ r.error }}</td></tr>
{% endfor %}</table></body></html>
"""


def write_reports(rows: list[Any], out_dir: Path, links: dict[str, dict[str, str]], summary: str,
                  generated_dir: Path = Path("generated")) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = []
    for r in rows:
        d = dataclasses.asdict(r)
        link = links.get(r.spec, {})
        d["doc_url"], d["source_url"] = link.get("doc_url", ""), link.get("source_url", "")
        d["generated_test"] = generated_test(r.spec, link.get("module", ""), generated_dir)
        d["first_text"] = json.dumps(_clean({k: v for k, v in r.first.items() if k != "spec_exact"}))[:400] \
            if r.first else ""
        d["classes_text"] = " ".join(f"{k}={c['verdict']} ({c['elements']} el., max {c['max_ulp']:.3g} ulp)"
                                     for k, c in (getattr(r, "classes", None) or {}).items())
        data.append(_clean(d))
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.html"]
    paths[0].write_text(json.dumps({"summary": summary, "rows": data}, indent=1), encoding="utf-8")
    md = [f"# torchlean-bridge check\n\n{summary}\n\n", _MD_HEAD]
    for d in data:
        md.append(f"| {d['binding']}{' [mutant ' + d['mutant'] + ']' if d['mutant'] else ''} | {d['implementation']} "
                  f"| {d['device']} | {d['dtype']} | {d['lr_kind']} | {d['verdict']} | {d['status']}"
                  f"{' (' + d['convention'] + ': ' + d['note'] + ')' if d.get('note') else ''}"
                  f"{': ' + d['reason'] if d.get('reason') else ''}"
                  f"{'; classes: ' + d['classes_text'] if d.get('classes_text') else ''} "
                  f"| {d['max_ulp']} | {d['cases']} | [{d['spec']}]({d['doc_url']}) ([source]({d['source_url']})) |\n")
    paths[1].write_text("".join(md), encoding="utf-8")
    env = Environment(autoescape=select_autoescape(default=True))
    paths[2].write_text(env.from_string(_HTML).render(rows=data, summary=summary), encoding="utf-8")
    return paths
