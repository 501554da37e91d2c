"""The process settings every peer script applies before torch loads (`import peer_env; peer_env.prepare()`).

OpenBLAS: Debian's environment may set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which slow a current OpenBLAS; they go.

glibc malloc: PyTorch (and libtorch under DJL) take each op's temporaries from malloc, and with glibc's defaults a freed
block of a few MiB goes back to the kernel (an mmap'd chunk, or a trimmed heap top), so the next op faults its pages in
again. Whether that happens depends on the heap's history, so the same op runs either at full speed or many times
slower, process by process: measured here with PyTorch 2.13, Adam over 1M parameters took 0.74-0.83 ms in some
processes and 15-20 ms in others, a 1-channel conv2d 0.27 ms or 21 ms. PyTorch's CPU tuning guide answers this with
jemalloc or tcmalloc; here glibc keeps blocks up to 32 MiB on its heap and never trims it, which made both cases
steady (0.74 ms, 0.27 ms in six processes out of six). The settings go into this process (mallopt) and into the
environment, so that every child inherits them: op_suite.py, the DJL JVM, and `kiln` itself, which runs with the same
settings as its peers although its own caching allocator does not depend on them.
"""
import ctypes
import os

MMAP_THRESHOLD = 32 << 20  # glibc's largest accepted value on 64-bit
TRIM_THRESHOLD = 1 << 30
ENV = {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD), "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}


def prepare():
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        os.environ.pop(var, None)
    os.environ.update(ENV)
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to set
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)
    libc.mallopt(m_trim_threshold, TRIM_THRESHOLD)
