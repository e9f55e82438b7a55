"""Gives the memory a process has freed back to the system.

glibc's allocator keeps freed memory for later reuse, and Python's objects freed in the middle of its
heap cannot be given back at its top: after loading the spaCy model, or after NER has read a few
hundred KB of text (its working memory is 40-70 MB), a process holds tens of MB it no longer uses.
In a worker process that is memory counted once per worker; in the fork server, memory every worker
would start with."""

import ctypes
import gc


def give_back() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # about 3 ms
    except (OSError, AttributeError):
        pass  # not glibc: the memory stays with the process, nothing else changes
