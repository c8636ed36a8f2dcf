"""Garbage-collector settings for patrol's batch processes: the CLI and the crawl processes.

CPython runs a collection every 700 container allocations (2,000 since 3.13) and, as a heap grows,
full collections walk every long-lived object again.  A crawl allocates many short-lived
containers per page (requests, responses, parsed trees' wrappers), nearly all freed by
reference counting, while it keeps tens of thousands of results alive; at the default
thresholds the collector took about a tenth of a crawl process's CPU.  With these settings
cycles are still collected, just less often, and what was loaded at start-up (modules,
settings, tables) is left out of every collection.  Measured on CPython 3.11, where the three
thresholds are the generations' (later versions read the second and third differently).
"""
from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 20)


def tune_for_batch() -> None:
    """Freeze what exists now and collect less often: call once, when start-up is done."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
