"""The process settings every peer script applies before torch loads (`import peer_env; peer_env.prepare()`).

OpenBLAS: Debian's environment may set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which slow a current OpenBLAS; they go.

glibc malloc: PyTorch (and libtorch under DJL) take each op's temporaries from malloc, and with glibc's defaults a freed
block of a few MiB goes back to the kernel (an mmap'd chunk, or a trimmed heap top), so the next op faults its pages in
again. Whether that happens depends on the heap's history, so the same op runs either at full speed or many times
slower, process by process: measured here with PyTorch 2.13, Adam over 1M parameters took 0.74-0.83 ms in some
processes and 15-20 ms in others, a 1-channel conv2d 0.27 ms or 21 ms. PyTorch's CPU tuning guide answers this with
jemalloc or tcmalloc; here glibc takes every block from its heap (no mmap'd chunks at all: the mmap threshold cannot
be raised past 32 MiB) and never trims it, which made both cases steady (0.74 ms, 0.27 ms in six processes out of
six). Blocks over 32 MiB matter too: the large LSTM's forward+backward (N=32, T=100, F=256, H=256) allocates about
48 MiB per run that came back from mmap with 12,000 page faults every time, and ran 95-114 ms with a 32 MiB threshold
alone against 35-36 ms from the heap; in a process whose earlier cases had left other state behind it ran 39 ms, so
the op table had shown 2.87x where 1.0x was true. The settings go into this process (mallopt) and into the
environment, so that every child inherits them: op_suite.py, the DJL JVM, and `kiln` itself, which runs with the same
settings as its peers although its own caching allocator does not depend on them. So does the thread count (THREADS).

Huge pages: Kiln puts its CPU blocks of 2 MiB and more on transparent huge pages (native/src/core/host_memory.cpp).
PyTorch can do the same for its allocations (THP_MEM_ALLOC_ENABLE=1, which 2.13 honours: checked in /proc/self/smaps).
Measured here in alternating processes it did not help PyTorch: the char LM 14.8-15.2k tokens/s with it against
15.4-16.5k without, and the large LSTM, the 4096x128x512 GEMM and Adam within their spread. So the peer keeps its
default, the faster of the two for it.
"""
import ctypes
import os

# One thread count for every side: PyTorch in these processes, and through the environment Kiln (KILN_NUM_THREADS) and
# libtorch under DJL (OMP_NUM_THREADS). KILN_BENCH_THREADS sets it; by default every core.
THREADS = int(os.environ.get("KILN_BENCH_THREADS") or os.cpu_count() or 1)

MMAP_THRESHOLD = 32 << 20  # glibc's largest accepted value on 64-bit
TRIM_THRESHOLD = 1 << 30
ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
       "MALLOC_MMAP_MAX_": "0"}


def prepare():
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    os.environ.update(ENV)
    os.environ["KILN_NUM_THREADS"] = str(THREADS)
    os.environ["OMP_NUM_THREADS"] = str(THREADS)
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to set
        return
    m_trim_threshold, m_mmap_threshold, m_mmap_max = -1, -3, -4  # <malloc.h>
    libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)
    libc.mallopt(m_trim_threshold, TRIM_THRESHOLD)
    libc.mallopt(m_mmap_max, 0)
