"""Device emulators that speak each device's real wire protocol (one module per device).

Each module defines ``async def open_sim(url: DeviceURL) -> Device`` and is
named by a :class:`~motorlab.devices.spec.SimSpec`.
"""
