"""Run small dense linear algebra with one BLAS thread, set once for the whole process.

A mixed-model fit makes thousands of calls into BLAS/LAPACK on small matrices (a few to a few
hundred rows). Multi-threaded OpenBLAS gains nothing there and pays thread synchronisation on
every call; on a machine whose cores are busy with other work this made fits up to 10 times
slower in our measurements.

The limit is set **once per process, on the first fit, and never restored**. BLAS thread limits
are process-wide state: a context manager that limits on entry and restores on exit is only
correct when one fit runs at a time. In a server whose thread pool fits several models at once,
one fit finishing would restore the old limit while another is still running (and two fits
would save and restore each other's settings in any order), so limits would flip between fits
unpredictably. Setting the limit once removes that race. A process that wants multi-threaded
BLAS for its own large matrices can raise the limit again after its last fit (threadpoolctl's
``threadpool_limits``); classdyad will not touch it again.
"""

from __future__ import annotations

import threading

from threadpoolctl import ThreadpoolController

__all__ = ["limit_blas_threads"]

_LOCK = threading.Lock()
_LIMITED = False


def limit_blas_threads() -> None:
    """Limit BLAS to one thread for the rest of the process (only the first call acts)."""
    global _LIMITED
    if _LIMITED:
        return
    with _LOCK:
        if _LIMITED:
            return
        # created here, after numpy and scipy have loaded their BLAS libraries
        ThreadpoolController().limit(limits=1, user_api="blas")
        _LIMITED = True
