"""Device-clock to host-clock mapping with drift correction.

Every block carries device times (exact spacing, unknown offset, slightly wrong
rate) and one host receive time (right clock, plus a variable transport delay).
The delay is never negative, so the *lower envelope* of ``host - device`` is the
offset with the least delay. Minima are taken per window and a straight line
through them (least squares) gives offset and drift; until enough windows exist
the running minimum is used.
"""

from __future__ import annotations

from typing import overload

import numpy as np


class ClockMapper:
    def __init__(self, window_s: float = 1.0, max_windows: int = 600):
        self.window_s = window_s
        self.max_windows = max_windows
        self.reset()

    def reset(self) -> None:
        """Forget the mapping (e.g. after a reconnect restarted the device clock)."""
        self._win_start: float | None = None
        self._win_min = np.inf
        self._win_dev = 0.0
        self._points: list[tuple[float, float]] = []  # (device_t, min offset)
        self._offset = np.nan
        self._slope = 0.0
        self._running_min = np.inf

    def update(self, device_t_last: float, host_t: float) -> None:
        """Feed the device time of a block's last sample and its host receive time."""
        off = host_t - device_t_last
        self._running_min = min(self._running_min, off)
        if self._win_start is None:
            self._win_start = device_t_last
        if device_t_last - self._win_start >= self.window_s:
            self._points.append((self._win_dev, self._win_min))
            if len(self._points) > self.max_windows:
                self._points.pop(0)
            self._win_start, self._win_min = device_t_last, np.inf
            if len(self._points) >= 3:
                d, o = np.array(self._points).T
                self._slope, self._offset = np.polyfit(d, o, 1)
        if off < self._win_min:
            self._win_min, self._win_dev = off, device_t_last

    @property
    def drift_ppm(self) -> float:
        return float(self._slope * 1e6)

    @overload
    def to_host(self, device_t: np.ndarray) -> np.ndarray: ...

    @overload
    def to_host(self, device_t: float) -> float: ...

    def to_host(self, device_t: np.ndarray | float) -> np.ndarray | float:
        """Map device time(s) to host monotonic time (s)."""
        if len(self._points) >= 3:
            return device_t + self._offset + self._slope * np.asarray(device_t)
        if np.isfinite(self._running_min):
            return device_t + self._running_min
        raise RuntimeError("clock mapper has no data yet")
