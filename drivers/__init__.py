"""One module per device at the edge: modem, printer, card reader, keypad, discovery, display."""
