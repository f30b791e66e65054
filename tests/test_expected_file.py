"""The expected-deviations file: a plain `SPEC BINDING/IMPL DEVICE DTYPE | reason | link` list."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.expected import ExpectedError
from bridge.expected import load_expected as load


def test_a_reason_may_contain_bars_and_the_link_is_the_last_field(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text(
        "# comment\n"
        "Optim.Adam.update  adam/foreach  cpu  float16 | eps rounds to 0 where |g| < 7e-3 | https://example.org/a#L1\n"
        "Optim.Adam.update  adam/fused  cpu  float32 | no link here\n",
        encoding="utf-8",
    )
    a, b = load(f)
    assert (a.reason, a.link) == ("eps rounds to 0 where |g| < 7e-3", "https://example.org/a#L1")
    assert (b.reason, b.link) == ("no link here", "")


def test_a_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("Optim.Adam.update adam/fused cpu | reason | link\n", encoding="utf-8")
    with pytest.raises(ExpectedError, match=r"x\.txt:1: "):
        load(f)
