"""The keypad: evdev key events turned into the terminal's keys, with hold-to-repeat."""
