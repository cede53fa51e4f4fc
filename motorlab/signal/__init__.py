"""Pure signal processing (NumPy/SciPy, no I/O): resample, filter, spectra, derivatives, segmentation, IMU.

Every function takes the sampling rate explicitly (Hz) and works on plain arrays.
"""

from .derivative import signal_derivative
from .filter import butter_sos, signal_filter
from .imu import (
    STANDARD_GRAVITY,
    imu_linear_acceleration,
    imu_orientation,
    pen_trajectory_from_imu,
)
from .resample import resample_segments, signal_resample
from .segment import (
    segment_force_trials,
    segment_pen_down,
    segment_threshold,
    signal_zero_crossings,
    speed_minima,
    vertical_velocity_crossings,
)
from .spectrum import SpectralPeak, band_power, peak_frequency, signal_psd, spectral_peak, welch_dof

__all__ = [
    "STANDARD_GRAVITY",
    "SpectralPeak",
    "band_power",
    "butter_sos",
    "imu_linear_acceleration",
    "imu_orientation",
    "peak_frequency",
    "pen_trajectory_from_imu",
    "resample_segments",
    "segment_force_trials",
    "segment_pen_down",
    "segment_threshold",
    "signal_derivative",
    "signal_filter",
    "signal_psd",
    "signal_resample",
    "signal_zero_crossings",
    "spectral_peak",
    "speed_minima",
    "vertical_velocity_crossings",
    "welch_dof",
]
