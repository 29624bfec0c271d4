"""The terminal's keys, the map from evdev key codes to them, and hold-to-repeat.

``KeyDecoder`` is pure: evdev events and the time go in, ``KeyPress`` events come out. Repeat
is done here rather than trusting the kernel's autorepeat, because some keypads do not
autorepeat at all and others far too fast for a person entering an amount.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Key(enum.Enum):
    DIGIT_0 = "0"
    DIGIT_1 = "1"
    DIGIT_2 = "2"
    DIGIT_3 = "3"
    DIGIT_4 = "4"
    DIGIT_5 = "5"
    DIGIT_6 = "6"
    DIGIT_7 = "7"
    DIGIT_8 = "8"
    DIGIT_9 = "9"
    DOT = "."
    OK = "OK"
    CANCEL = "CANCEL"
    CLEAR = "CLEAR"
    F1 = "F1"
    F2 = "F2"
    F3 = "F3"
    F4 = "F4"
    UP = "UP"
    DOWN = "DOWN"
    LEFT = "LEFT"
    RIGHT = "RIGHT"

    @property
    def digit(self) -> str | None:
        return self.value if self.name.startswith("DIGIT_") else None


# Keys that repeat while held (editing keys); OK and CANCEL never repeat: a held OK must not
# confirm two payments.
REPEATING = frozenset(
    {*(k for k in Key if k.digit), Key.DOT, Key.CLEAR, Key.UP, Key.DOWN, Key.LEFT, Key.RIGHT}
)

DEFAULT_MAP: dict[str, Key] = {
    **{f"KEY_{d}": Key(str(d)) for d in range(10)},
    **{f"KEY_KP{d}": Key(str(d)) for d in range(10)},
    "KEY_DOT": Key.DOT,
    "KEY_KPDOT": Key.DOT,
    "KEY_ENTER": Key.OK,
    "KEY_KPENTER": Key.OK,
    "KEY_ESC": Key.CANCEL,
    "KEY_BACKSPACE": Key.CLEAR,
    "KEY_DELETE": Key.CLEAR,
    "KEY_F1": Key.F1,
    "KEY_F2": Key.F2,
    "KEY_F3": Key.F3,
    "KEY_F4": Key.F4,
    "KEY_UP": Key.UP,
    "KEY_DOWN": Key.DOWN,
    "KEY_LEFT": Key.LEFT,
    "KEY_RIGHT": Key.RIGHT,
}


class KeyMapError(ValueError):
    pass


def key_map(remap: str = "") -> dict[int, Key]:
    """evdev key code -> Key, the defaults overlaid with ``remap`` ("KEY_F12=OK KEY_F11=CANCEL")."""
    from evdev import ecodes

    names = dict(DEFAULT_MAP)
    for pair in remap.split():
        name, _, target = pair.partition("=")
        if name not in ecodes.ecodes:
            raise KeyMapError(f"keypad.remap: {name} is not an evdev key name")
        try:
            names[name] = Key[target]
        except KeyError:
            raise KeyMapError(f"keypad.remap: {target} is not a terminal key") from None
    return {ecodes.ecodes[name]: key for name, key in names.items()}


@dataclass(frozen=True)
class KeyPress:
    """One key the keypad reported, with whether it is a repeat of a held key."""

    key: Key
    repeat: bool = False


EV_KEY = 1
UP, DOWN, HOLD = 0, 1, 2


class KeyDecoder:
    def __init__(self, mapping: dict[int, Key], delay_s: float = 0.5, interval_s: float = 0.1):
        self.mapping = mapping
        self.delay_s = delay_s
        self.interval_s = interval_s
        self._held: Key | None = None
        self._next_repeat = 0.0

    def feed(self, event_type: int, code: int, value: int, now: float) -> list[KeyPress]:
        """One evdev event; unmapped keys and other event types are ignored."""
        if event_type != EV_KEY:
            return []
        key = self.mapping.get(code)
        if key is None:
            return []
        if value == DOWN:
            self._held = key
            self._next_repeat = now + self.delay_s
            return [KeyPress(key)]
        if value == UP:
            if self._held is key:
                self._held = None
            return []
        return self.tick(now)  # kernel autorepeat: only as fast as our own timing allows

    def tick(self, now: float) -> list[KeyPress]:
        """Repeats due by ``now`` for the key held down."""
        if self._held is None or self._held not in REPEATING:
            return []
        presses = []
        while now >= self._next_repeat:
            presses.append(KeyPress(self._held, repeat=True))
            self._next_repeat += self.interval_s
        return presses
