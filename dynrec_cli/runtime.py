"""Process-wide settings of the C allocator that torch's CPU tensors come from.

glibc serves every block above its mmap threshold (at most 32 MiB, adjusted at run time) with a
fresh `mmap` and unmaps it on free, and trims freed memory at the top of the heap. A training step
or a scoring chunk allocates blocks of that size (a batch's logits, a chunk's feed-forward
activations) over and over, and each fresh page then faults on first touch, which is expensive on
the VMs we measure on: ~10% of an ml-100k SASRec epoch, ~20% of its test evaluation pass and ~25%
of Sports' (docs/performance.md). Blocks under 64 MiB are now served from the heap and reused, and
up to 256 MiB of freed memory stays at its top. Larger blocks (1M-item score chunks) still get their
own mapping. The price is resident memory kept after peaks: +~100 MiB measured (1M-item ranking
835 → 933 MiB, still flat in users; 10M-event prepare 1,760 → 1,886 MiB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters in glibc's malloc.h
MMAP_THRESHOLD_BYTES = 64 << 20  # blocks above this still get their own mapping, returned on free
TRIM_THRESHOLD_BYTES = 256 << 20  # free memory kept at the top of the heap before it is returned


@cache
def reuse_freed_memory() -> bool:
    """Keep freed blocks under 64 MiB for reuse (glibc on Linux); False where that does not apply.

    Process-wide and one-way: only the first call acts, and a later verb in the same process (an
    in-process sweep) cannot turn it back off.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
