"""``motorlab app``: the visit in a web browser, served from this machine only.

Entry points:

* :func:`create_app` — the Starlette app for a clinic dataset (routes, live
  WebSocket, static files, security middleware);
* :func:`~motorlab.ui.web.server.prepare` — bind 127.0.0.1 (and a LAN address),
  build the uvicorn server; ``.run()`` serves until Ctrl-C;
* :class:`LiveHub` and the :class:`LiveSource` protocol — how a running task
  drives the task screen (schema in :mod:`motorlab.ui.web.live`, docs/app.md).
"""

from .app import AppState, create_app
from .hub import LiveHub
from .live import (
    COMMANDS,
    KEYS,
    MAX_RATE_HZ,
    SCHEMA_VERSION,
    DeviceState,
    ForceSamples,
    ForceState,
    HoldState,
    LiveBuffer,
    LiveSnapshot,
    LiveSource,
    LiveUpdate,
    PenSamples,
    PenState,
    StepState,
    TaskState,
)
from .security import Access

__all__ = [
    "COMMANDS",
    "KEYS",
    "MAX_RATE_HZ",
    "SCHEMA_VERSION",
    "Access",
    "AppState",
    "DeviceState",
    "ForceSamples",
    "ForceState",
    "HoldState",
    "LiveBuffer",
    "LiveHub",
    "LiveSnapshot",
    "LiveSource",
    "LiveUpdate",
    "PenSamples",
    "PenState",
    "StepState",
    "TaskState",
    "create_app",
]
