"""pytest plugin (entry point `pytest11`): the `torchlean-bridge check` cases as pytest items.

Inactive unless the user opts in — `pytest --torchlean-check`, or `torchlean_check = true` in the
ini file — so an ordinary test run is not slowed. Each item is one check row (binding ×
implementation × device × dtype × lr kind, or an autograd model × device × dtype), marked
`@pytest.mark.lean("<full Lean name>")`; it fails on an unexpected violation (the same expected-
deviations file as the CLI turns a known one into an xfail). CUDA items exist only where torch sees a GPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bridge import DTYPES


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("torchlean", "torchlean-bridge checks")
    g.addoption("--torchlean-check", action="store_true", default=None,
                help="collect the torchlean-bridge check cases as tests")
    g.addoption("--torchlean-binding", action="append", metavar="NAME", help="only these bindings (repeatable)")
    g.addoption("--torchlean-dtype", action="append", choices=DTYPES, help="only these dtypes (repeatable)")
    g.addoption("--torchlean-device", action="append", choices=("cpu", "cuda"),
                help="only these devices (repeatable; default cpu, and cuda when a GPU is present)")
    g.addoption("--torchlean-bindings", metavar="FILE", help="bindings JSON (default: the shipped file)")
    g.addoption("--torchlean-generated", metavar="DIR", help="generated references (default: ini or ./generated)")
    parser.addini("torchlean_check", "collect the torchlean-bridge check cases", type="bool", default=False)
    parser.addini("torchlean_generated", "generated references folder", default="generated")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lean(name): the Lean declaration (full name) a test checks")


def _active(config: pytest.Config) -> bool:
    opt = config.getoption("--torchlean-check")
    return bool(opt) if opt is not None else bool(config.getini("torchlean_check"))


class CheckCollector(pytest.Collector):
    def collect(self) -> list[pytest.Item]:
        return []  # items are attached in pytest_collection_modifyitems


class CheckItem(pytest.Item):
    def __init__(self, *, run: Callable[[], Any], spec: str, **kw: Any) -> None:
        super().__init__(**kw)
        self._run, self.spec = run, spec
        self.add_marker(pytest.mark.lean(spec))

    def runtest(self) -> None:
        from bridge.expected import DEFAULT_EXPECTED, classify, load_expected

        row = self._run()
        classify([row], load_expected(DEFAULT_EXPECTED))
        self.user_properties.append(("verdict", row.verdict))
        if row.status == "unsupported":
            pytest.skip(row.error)
        if row.status == "expected":
            pytest.xfail(f"expected deviation: {row.reason}")
        if row.status == "unexpected":
            what = row.error or f"{row.verdict}, max {row.max_ulp:.3g} ulp, first {row.first}"
            raise CheckFailure(f"{row.spec}: {row.binding}/{row.implementation} {row.device} {row.dtype}: {what}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"lean {self.spec}: {self.name}"


class CheckFailure(Exception):
    pass


def _cases(config: pytest.Config) -> Iterator[tuple[str, str, Callable[[], Any]]]:
    import torch

    from bridge.bindings import load_bindings
    from bridge.check import CheckOptions, GeneratedSpecs, check_binding, plan
    from bridge.runtimes import discover_bindings
    from bridge.runtimes.torch_autograd import MODELS, SPEC, check_model

    only = config.getoption("--torchlean-binding")
    dtypes = config.getoption("--torchlean-dtype") or DTYPES
    gen = config.getoption("--torchlean-generated") or config.getini("torchlean_generated")
    gen_dir = Path(gen) if Path(gen).is_absolute() else Path(config.rootpath) / gen
    bfile = config.getoption("--torchlean-bindings")
    bindings = load_bindings(Path(bfile) if bfile else None)
    if not bfile:
        bindings += discover_bindings()
    devices = config.getoption("--torchlean-device") or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" in devices and not torch.cuda.is_available():
        raise pytest.UsageError("--torchlean-device cuda: torch.cuda.is_available() is False on this machine "
                                "(drop the option to check the CPU only)")
    opts = CheckOptions(devices=devices, dtypes=list(dtypes), cases=1)
    specs = GeneratedSpecs(gen_dir)
    for b, impl, dev, dt, lk in plan(bindings, opts, only):
        yield (f"{b.name}/{impl}-{dev}-{dt}-{lk}", b.spec, partial(check_binding, specs, b, impl, dev, dt, lk, opts))
    for name, fac in MODELS.items():
        if only and name not in only:
            continue
        for dev in devices:
            for dt in dtypes:
                yield (f"{name}-{dev}-{dt}", SPEC, partial(check_model, fac, dev, dt, 0, name=name))


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselection, so `-m lean` selects these items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    parent = CheckCollector.from_parent(session, name="torchlean-check")
    for name, spec, run in _cases(config):
        items.append(CheckItem.from_parent(parent, name=name, run=run, spec=spec))
