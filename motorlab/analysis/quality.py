"""Collecting quality flags while a recording is analysed.

Each analysis step runs inside :meth:`QualityLog.step` under a flag name: a warning it
raises (a :class:`~motorlab.errors.MotorlabWarning` for NaN results, e.g. too short
input) becomes a :class:`~motorlab.analysis.results.QualityFlag` of that name, and is
passed on unchanged to the caller, so the flag names come from the step, never from
parsing messages.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from .results import QualityFlag


class QualityLog:
    """Flags of one analysis, plus every warning raised during it (in order)."""

    def __init__(self) -> None:
        self.flags: list[QualityFlag] = []
        self._flagged: set[int] = set()  # ids of the warning objects already turned into flags

    def add(self, name: str, message: str) -> None:
        self.flags.append(QualityFlag(name, message))

    @contextmanager
    def step(self, name: str, context: str = "") -> Iterator[None]:
        """Turn the warnings raised inside the block into flags ``name`` (message prefixed
        by ``context``) and raise them again, unchanged, for the caller."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            if id(w.message) not in self._flagged:
                self._flagged.add(id(w.message))
                text = str(w.message)
                self.add(name, f"{context}: {text}" if context else text)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)

    @contextmanager
    def analysis(self) -> Iterator[list[str]]:
        """The whole analysis: warnings not raised inside a step become flags ``analysis``;
        yields the list that receives every warning message, in order."""
        messages: list[str] = []
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught_now:
                warnings.simplefilter("always")
                try:
                    yield messages
                finally:
                    caught = list(caught_now)
        finally:
            for w in caught:
                if id(w.message) not in self._flagged:
                    self._flagged.add(id(w.message))
                    self.add("analysis", str(w.message))
                messages.append(str(w.message))
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
