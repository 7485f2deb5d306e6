"""The garbage collector held off while a large batch is worked on.

Checking, numbering and storing a batch allocate millions of short-lived objects that
reference counting frees; none of them form cycles worth collecting. Each collection the
allocations trigger would still walk every object alive (modules, schemas, the batch's
chunk), a tenth of a posting's time, and in a forked process would copy the pages it
inherited. Objects alive before are frozen (left out of every collection), and collection
is off until the batch is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()
