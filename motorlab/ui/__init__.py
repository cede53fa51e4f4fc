"""Views of a running task; each subscribes to the session's live snapshots.

* :mod:`.terminal` — the rich live panel (:class:`~.terminal.TerminalView`) and plain log lines.
* :mod:`.keys` — the therapist's keyboard (:class:`~.keys.TerminalKeys`).
* :mod:`.plot` — an optional matplotlib trace window (:class:`~.plot.LivePlot`).
* :mod:`.web` — the browser app (``motorlab app``).

Views only read :class:`~motorlab.session.live.LiveSnapshot` s and push controls;
the session never imports this package.
"""
