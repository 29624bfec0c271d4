"""Stand-ins for the world outside the terminal, plugged in at the operating-system boundary."""
