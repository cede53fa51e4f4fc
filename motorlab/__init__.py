"""motorlab: objective fine-motor measurements from low-cost sensors.

Data flows one way: device bytes -> codec (``motorlab.devices``) -> session
(``motorlab.session``: calibration, crash-safe BIDS writing) -> :class:`Recording`
-> ``motorlab.signal`` -> ``motorlab.analysis`` -> report/table.

The names below are imported on first use (PEP 562), so that ``import motorlab``
(and the command line's entry point) does not pay for NumPy and SciPy before it
needs them: ``motorlab --version`` answers at once, and Ctrl-C while a command
is still loading is caught by the command line like any other interruption.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

try:
    __version__ = _version("motorlab")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from .recording import Channel, Event, Metadata, Recording, RecordingError

__all__ = ["Channel", "Event", "Metadata", "Recording", "RecordingError", "__version__"]
_FROM_RECORDING = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _FROM_RECORDING:
        from . import recording

        return getattr(recording, name)
    raise AttributeError(f"module 'motorlab' has no attribute {name!r}")
