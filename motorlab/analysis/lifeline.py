"""Worker processes that live and die with the process that started them.

A batch run's local workers (:class:`concurrent.futures.ProcessPoolExecutor`) call
:func:`bind_to_parent` as their initializer, so that

* Ctrl-C is handled once, by the parent (the workers ignore SIGINT; otherwise every
  worker prints its own ``KeyboardInterrupt`` traceback);
* killing the parent (SIGTERM, SIGKILL, a crash) ends the workers too: on Linux the
  kernel sends them SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``, through
  :mod:`ctypes`, as no maintained library wraps it), and on every platform a daemon
  thread exits the worker when its parent process id changes.

:func:`ignoring_sigint` covers processes motorlab does not start itself (a Dask
LocalCluster's nannies and workers): SIGINT is ignored while they are spawned, and an
ignored signal stays ignored across ``exec``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: seconds between checks of the parent process id (portable fallback)
POLL_S = 0.5


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent is gone: nothing will ever collect this worker's result
        time.sleep(POLL_S)


def bind_to_parent() -> None:
    """Run in a worker process: ignore SIGINT and exit when the parent process dies."""
    parent = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="motorlab-lifeline", daemon=True).start()


@contextlib.contextmanager
def ignoring_sigint() -> Iterator[None]:
    """Ignore SIGINT while child processes are spawned in this block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
