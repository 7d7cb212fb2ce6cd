"""One BLAS/OpenMP thread for this process, and freed memory reused: import it before numpy.

The detector's matrix products are small (a frame of samples by a few dozen harmonics), and a
multi-threaded BLAS only spins against the asyncio loop on a 2-core Pi; the benches measure one
core. Thread pools are sized when numpy loads, hence the import order. A value already set in the
environment wins.

The detector's temporaries are about 1 MB per 60 s of EMG. glibc maps blocks that size afresh
and unmaps them when freed, so a fresh process pays a page fault per 4 KB of every temporary:
about a fifth of `twitchwatch analyze`'s CPU. Keeping blocks under 16 MB in the heap, and up to
32 MB of freed heap before giving it back, lets them be reused (glibc only; the environment's
``MALLOC_*_`` settings win).
"""

import ctypes
import os

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
#: glibc's mallopt parameters (malloc.h) and the values set.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 16 << 20
TRIM_THRESHOLD_BYTES = 32 << 20

for _var in THREAD_VARS:
    os.environ.setdefault(_var, "1")


def _reuse_freed_memory() -> None:
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): its defaults stand
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)


_reuse_freed_memory()
