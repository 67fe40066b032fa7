"""An OS lock on a file in the data folder, taken without waiting.

Sweeps (`xapi/sweep.py`) and sync rounds (`sync/rounds.py`) of one data folder take
turns under such a lock; the OS lets go of it when the process dies, so a crash
never leaves a stale lock behind."""

from __future__ import annotations

import os
import sys


def try_lock(fd: int) -> bool:
    """True when this process now holds the lock on the open file `fd`."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError on POSIX, PermissionError from msvcrt
        return False
    return True
