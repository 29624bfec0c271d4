"""The GPRS module emulator: AT commands on a pseudo-terminal, TCP bridged to the target."""
