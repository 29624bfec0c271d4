"""The IC card reader (PC/SC through pyscard) and the purchase-card profile."""
