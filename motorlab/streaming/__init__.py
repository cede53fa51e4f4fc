"""Live streaming of device samples to other programs (Lab Streaming Layer).

:mod:`motorlab.streaming.lsl` publishes a device as an LSL outlet (optional
extra ``lsl``: pylsl); :mod:`motorlab.streaming.run` pumps a driver into it.
"""
