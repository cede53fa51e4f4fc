"""Simulation: virtual participants, a faithful emulator for every device, and synthetic data.

Nothing here is needed to measure a real person; it is what the demo, the
tests and the benchmarks run on, and it is kept apart so that production code
reaches it only through one typed door: opening a ``sim://`` URL with
:func:`motorlab.devices.open_device` imports :mod:`motorlab.sim.opening` lazily
and returns a :class:`~motorlab.devices.Device` whose ``emulator`` satisfies
the :class:`~motorlab.devices.Emulator` protocol (``cue``, ``truth``,
``apply_load``, ``set_pose``).

* :mod:`.models` — the signal models (one grip-force model, hashed noise, minimum jerk).
* :mod:`.participants` — virtual participants that react to task cues.
* :mod:`.emulators` — every device's firmware behaviour on its real wire protocol:
  serial devices on a pseudo-terminal (:mod:`.pty_link`), BLE devices as
  peripherals of an emulated BlueZ (:mod:`.bluez`, needs the ``sim`` extra
  ``dbus-fast`` off Linux) reached through bleak's real backend.
* :mod:`.dataset` — synthetic BIDS datasets with known parameters (batch tests, benchmarks).
* :mod:`.sample_clinic` — a small clinic with known values (report tests, screenshots).

Adding a device's emulator: write ``emulators/<name>.py`` with
``async def open_sim(url: DeviceURL) -> Device`` (subclass
:class:`~.emulators.base.ParticipantDevice`, or :class:`~.emulators.ble.BleEmulator`
for BLE) and name it in the device's ``sims`` in :mod:`motorlab.devices.spec`.
"""
