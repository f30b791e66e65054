"""Pausing Python's cyclic garbage collector around bulk object building."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused(freeze: bool = False) -> Iterator[None]:
    """Run the block with the cyclic collector off (restored afterwards, also on error).

    For code that builds many small objects and no garbage cycles worth collecting (reading a
    Lean file, loading exports): the collector would otherwise rescan the growing heap again and
    again (loading 150 MB of exports: 15.7 s with it, 4.6 s without).

    `freeze`: when the block succeeds, move every object the collector tracks into its permanent
    generation (`gc.freeze`). For long-lived, acyclic data such as loaded exports: without it the
    next collections rescan all of it once per generation (resolving every declaration after that
    load took 6 s instead of 0.3 s). Reference counting still frees frozen objects; only garbage
    cycles that exist at that moment are never collected.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()
