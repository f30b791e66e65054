"""A one-line progress bar on stderr, for long runs on a terminal (`extract`, `names`)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def bar(label: str, unit: str) -> Callable[[int, int], None]:
    """`report(done, total)` redrawing `label [####....] done/total unit`, ending the line at the end."""

    def report(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report
