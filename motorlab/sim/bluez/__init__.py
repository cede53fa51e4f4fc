"""An emulated BlueZ on a private D-Bus, so bleak's real Linux backend can reach emulated peripherals.

:mod:`.fakebluez` exports the ``org.bluez`` objects (needs ``dbus-fast``: the
``sim`` extra), :mod:`.bus` runs the private ``dbus-daemon`` and points this
process at it (:class:`~.bus.BleSandbox`).
"""
