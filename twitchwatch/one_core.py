"""One BLAS/OpenMP thread for this process: import it before numpy.

The detector's matrix products are small (a frame of samples by a few dozen harmonics), and a
multi-threaded BLAS only spins against the asyncio loop on a 2-core Pi; the benches measure one
core. Thread pools are sized when numpy loads, hence the import order. A value already set in the
environment wins.
"""

import os

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")

for _var in THREAD_VARS:
    os.environ.setdefault(_var, "1")
