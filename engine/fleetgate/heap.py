"""Keep the cyclic garbage collector off the objects a large check holds until it ends.

A scan loads every manifest, then builds an input, facts and findings for each: millions of
objects that live until the decision is written. CPython's collector walks every tracked object
at each full collection, and the allocations of the later stages set off several, none of
which can free anything the run still holds. On a 10,000-manifest scan they took about half a
second; with the cost fact's allocations, more. Inside :func:`frozen`, what was alive on entry
is frozen (``gc.freeze``): collections walk only what the block itself allocates, so garbage
cycles made there are still collected. Reference counting frees everything as usual.

Blocks nest (the check's stages, then the worker pool inside them): each entry freezes what is
alive then, and only the outermost exit hands everything back to the collector. A forked worker
inherits the frozen objects and never touches their pages to collect them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen"]

_lock = threading.Lock()
_depth = 0


@contextmanager
def frozen() -> Iterator[None]:
    """Objects alive now stay out of the cyclic collector's reach until the outermost block exits."""
    global _depth
    with _lock:
        gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
