"""Imported first by the fork server that the scanner's workers are forked from (worker.py,
`_process_context`). The server reads the pipe that tells it the scan has ended only once its
preload is loaded (the spaCy model and the detectors' tables: seconds, tens of seconds on a loaded
machine), so a scan killed meanwhile left it loading on. Until `disarm` (at the end of
fork_preload.py) the kernel kills it when the scan dies; after, its own loop notices, and a server
started by a thread that ends stays up for the scans that follow (the signal is tied to that thread)."""

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _on_parent_death(signal_number: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal_number, 0, 0, 0)


def disarm() -> None:
    _on_parent_death(0)


_on_parent_death(signal.SIGKILL)
if os.getppid() == 1:  # the scan died before the signal was set
    os._exit(1)
