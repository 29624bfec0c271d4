"""Finding the terminal's devices with udev, and hearing when they come and go.

``classify`` is pure — a device's udev properties in, what it is out — so the rules are tested
with constructed property sets; ``find`` and ``watch`` apply it to the real udev database and
its hotplug events (a printer plugged back in, a modem re-enumerated after a reset).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

MODEM_VENDORS = ("SIMCOM", "SIMTECH", "QUECTEL", "1E0E", "2C7C")  # names and USB vendor ids


class DeviceKind(enum.Enum):
    KEYPAD = "keypad"
    PRINTER = "printer"
    MODEM = "modem"


@dataclass(frozen=True)
class DeviceEvent:
    """A device udev reported added or removed."""

    action: str  # add, remove, change
    kind: DeviceKind
    devnode: str


def classify(props: Mapping[str, str]) -> DeviceKind | None:
    subsystem = props.get("SUBSYSTEM", "")
    devnode = props.get("DEVNAME", "")
    if subsystem == "input" and props.get("ID_INPUT_KEY") == "1" and "/event" in devnode:
        if props.get("ID_INPUT_MOUSE") == "1":
            return None
        return DeviceKind.KEYPAD
    if subsystem == "usbmisc" and "/lp" in devnode:
        return DeviceKind.PRINTER
    if subsystem == "tty":
        ident = " ".join(
            props.get(k, "") for k in ("ID_VENDOR", "ID_VENDOR_ID", "ID_MODEL", "ID_SERIAL")
        ).upper()
        if any(vendor in ident for vendor in MODEM_VENDORS):
            # Multi-port modules: the AT port is interface 02 on SIMCom, 03 on Quectel;
            # a plain serial-attached module has no interface number at all.
            interface = props.get("ID_USB_INTERFACE_NUM")
            if interface in (None, "02", "03"):
                return DeviceKind.MODEM
    return None


def find(kind: DeviceKind) -> list[str]:
    """Device nodes of that kind now present, in udev's order."""
    import pyudev

    context = pyudev.Context()
    found = []
    for device in context.list_devices():
        props = dict(device.properties)
        if classify(props) is kind and device.device_node:
            found.append(device.device_node)
    return found


async def watch() -> AsyncIterator[DeviceEvent]:
    """Hotplug events of the devices we care about."""
    import pyudev

    monitor = pyudev.Monitor.from_netlink(pyudev.Context())
    for subsystem in ("input", "usbmisc", "tty"):
        monitor.filter_by(subsystem)
    monitor.start()
    queue: asyncio.Queue[DeviceEvent] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def readable() -> None:
        device = monitor.poll(timeout=0)
        while device is not None:
            kind = classify(dict(device.properties))
            if kind is not None and device.device_node:
                queue.put_nowait(DeviceEvent(device.action or "change", kind, device.device_node))
            device = monitor.poll(timeout=0)

    loop.add_reader(monitor.fileno(), readable)
    try:
        while True:
            yield await queue.get()
    finally:
        loop.remove_reader(monitor.fileno())
