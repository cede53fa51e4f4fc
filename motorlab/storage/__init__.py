"""Reading and writing recordings (BIDS motion layout)."""

from .bids import (
    RecordingWriter,
    find_recordings,
    read_recording,
    recover,
    write_recording,
)

__all__ = ["RecordingWriter", "find_recordings", "read_recording", "recover", "write_recording"]
