"""Open a ``sim://`` URL: the registry entry :func:`motorlab.devices.open_device` imports lazily.

The simulator named by the URL is looked up in :mod:`motorlab.devices.spec`
(``DeviceSpec.sims``); its module in :mod:`motorlab.sim.emulators` starts the
emulator and opens the real driver on it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import cast

from ..devices.device import Device
from ..devices.registry import DeviceURL
from ..devices.spec import simulators
from ..errors import DeviceError

#: ``open_sim(url) -> Device`` of an emulator module
SimOpener = Callable[[DeviceURL], Awaitable[Device]]


def emulator_opener(name: str, url_text: str = "") -> SimOpener:
    """The ``open_sim`` of simulator ``name`` (its module is imported now)."""
    known = simulators()
    if name not in known:
        raise DeviceError(
            f"{url_text or 'sim://' + name}: unknown simulator; known: {', '.join(sorted(known))}"
        )
    _, sim = known[name]
    try:
        module = importlib.import_module(f"{__package__}.emulators.{sim.module}")
    except ModuleNotFoundError as exc:
        raise DeviceError(
            f"{url_text or 'sim://' + name}: simulator needs the '{exc.name}' package "
            f"(pip install 'motorlab[sim]')"
        ) from None
    return cast(SimOpener, module.open_sim)


async def open_sim(url: DeviceURL) -> Device:
    """Start the emulator a ``sim://`` URL names and open its real driver on it."""
    return await emulator_opener(url.target, url.text)(url)
