"""Keypad decoding from constructed evdev events (no /dev/uinput here), and device discovery."""

from __future__ import annotations

import pytest
from evdev import InputEvent, ecodes

from drivers.discovery import DeviceKind, classify
from drivers.keypad.keys import Key, KeyDecoder, KeyMapError, KeyPress, key_map


def feed(decoder, code, value, now):
    event = InputEvent(int(now), int(now % 1 * 1e6), ecodes.EV_KEY, code, value)
    return decoder.feed(event.type, event.code, event.value, now)


def test_keypad_and_keyboard_keys_map_to_terminal_keys():
    mapping = key_map()
    assert mapping[ecodes.KEY_KP7] is Key.DIGIT_7 and mapping[ecodes.KEY_7] is Key.DIGIT_7
    assert mapping[ecodes.KEY_KPENTER] is Key.OK and mapping[ecodes.KEY_ENTER] is Key.OK
    assert mapping[ecodes.KEY_ESC] is Key.CANCEL
    assert mapping[ecodes.KEY_BACKSPACE] is Key.CLEAR
    assert mapping[ecodes.KEY_F3] is Key.F3 and mapping[ecodes.KEY_UP] is Key.UP


def test_remap_from_config_and_its_errors():
    assert key_map("KEY_F12=OK")[ecodes.KEY_F12] is Key.OK
    with pytest.raises(KeyMapError, match="KEY_NOPE"):
        key_map("KEY_NOPE=OK")
    with pytest.raises(KeyMapError, match="LAUNCH"):
        key_map("KEY_F12=LAUNCH")


def test_press_hold_and_release():
    decoder = KeyDecoder(key_map(), delay_s=0.5, interval_s=0.1)
    assert feed(decoder, ecodes.KEY_KP5, 1, 10.0) == [KeyPress(Key.DIGIT_5)]
    assert decoder.tick(10.4) == []
    repeats = decoder.tick(10.75)
    assert repeats == [KeyPress(Key.DIGIT_5, True)] * 3  # at 10.5, 10.6, 10.7
    # kernel autorepeat arriving fast is held to our pace
    assert feed(decoder, ecodes.KEY_KP5, 2, 10.76) == []
    assert feed(decoder, ecodes.KEY_KP5, 0, 10.8) == []
    assert decoder.tick(12.0) == []


def test_ok_never_repeats_and_other_events_are_ignored():
    decoder = KeyDecoder(key_map(), delay_s=0.5, interval_s=0.1)
    assert feed(decoder, ecodes.KEY_KPENTER, 1, 0.0) == [KeyPress(Key.OK)]
    assert decoder.tick(5.0) == []
    assert decoder.feed(ecodes.EV_SYN, 0, 0, 5.0) == []
    assert feed(decoder, ecodes.KEY_VOLUMEUP, 1, 5.0) == []


@pytest.mark.parametrize(
    ("props", "kind"),
    [
        (
            {"SUBSYSTEM": "input", "DEVNAME": "/dev/input/event3", "ID_INPUT_KEY": "1"},
            DeviceKind.KEYPAD,
        ),
        (
            {
                "SUBSYSTEM": "input",
                "DEVNAME": "/dev/input/event4",
                "ID_INPUT_KEY": "1",
                "ID_INPUT_MOUSE": "1",
            },
            None,
        ),
        ({"SUBSYSTEM": "input", "DEVNAME": "/dev/input/mouse0", "ID_INPUT_KEY": "1"}, None),
        ({"SUBSYSTEM": "usbmisc", "DEVNAME": "/dev/usb/lp0"}, DeviceKind.PRINTER),
        (
            {
                "SUBSYSTEM": "tty",
                "DEVNAME": "/dev/ttyUSB2",
                "ID_VENDOR": "SIMCOM_Ltd",
                "ID_USB_INTERFACE_NUM": "02",
            },
            DeviceKind.MODEM,
        ),
        (
            {
                "SUBSYSTEM": "tty",
                "DEVNAME": "/dev/ttyUSB0",
                "ID_VENDOR": "SIMCOM_Ltd",
                "ID_USB_INTERFACE_NUM": "00",
            },
            None,
        ),  # the diagnostics port, not AT
        (
            {
                "SUBSYSTEM": "tty",
                "DEVNAME": "/dev/ttyUSB3",
                "ID_VENDOR_ID": "2c7c",
                "ID_USB_INTERFACE_NUM": "03",
            },
            DeviceKind.MODEM,
        ),
        ({"SUBSYSTEM": "tty", "DEVNAME": "/dev/ttyS0"}, None),
    ],
)
def test_udev_properties_are_classified(props, kind):
    assert classify(props) is kind


def test_find_returns_the_nodes_of_the_devices_udev_lists(monkeypatch):
    """``find`` over the real udev database, not a vacuous ``all()`` over an empty list.

    A test machine rarely has a keypad, printer or modem, so ``find`` is run with every tty
    taken for a modem: it must then return exactly the tty nodes udev lists, which are never
    none where there is a udev database. What counts as a modem is ``classify``'s job, tested
    above with constructed properties.
    """
    pyudev = pytest.importorskip("pyudev")
    from drivers import discovery

    try:
        context = pyudev.Context()
    except ImportError as exc:
        pytest.skip(f"libudev not available: {exc}")
    ttys = [d.device_node for d in context.list_devices(subsystem="tty") if d.device_node]
    if not ttys:
        pytest.skip("udev lists no tty on this machine: no database to run find() against")
    monkeypatch.setattr(
        discovery,
        "classify",
        lambda props: DeviceKind.MODEM if props.get("SUBSYSTEM") == "tty" else None,
    )
    found = discovery.find(DeviceKind.MODEM)
    assert found, "find() returned nothing although udev lists ttys"
    assert sorted(found) == sorted(ttys)
    assert all(node.startswith("/dev/") for node in found)
    assert discovery.find(DeviceKind.KEYPAD) == []
