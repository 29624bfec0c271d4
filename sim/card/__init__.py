"""The purchase-card emulator: a card image played into pcscd's vpcd virtual reader, and a meter."""
