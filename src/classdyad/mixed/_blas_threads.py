"""Run small dense linear algebra with one BLAS thread.

A mixed-model fit makes thousands of calls into BLAS/LAPACK on small matrices (a few to a few
hundred rows). Multi-threaded OpenBLAS gains nothing there and pays thread synchronisation on
every call; on a machine whose cores are busy with other work this made fits up to 10 times
slower in our measurements. :func:`single_threaded_blas` limits BLAS to one thread for the
duration of a fit (with threadpoolctl) and restores the previous setting afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas"]


@functools.lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # created on first use, after numpy and scipy have loaded their BLAS libraries
    return ThreadpoolController()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Context manager: BLAS limited to one thread inside, the previous limits restored after."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
