"""The thermal printer emulator: a pseudo-terminal that speaks ESC/POS, and a receipt decoder."""
