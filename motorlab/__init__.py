"""motorlab: objective fine-motor measurements from low-cost sensors.

Data flows one way: device bytes -> codec (``motorlab.devices``) -> session
(``motorlab.session``: calibration, crash-safe BIDS writing) -> :class:`Recording`
-> ``motorlab.signal`` -> ``motorlab.analysis`` -> report/table.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("motorlab")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from .recording import Channel, Event, Metadata, Recording, RecordingError

__all__ = ["Channel", "Event", "Metadata", "Recording", "RecordingError", "__version__"]
