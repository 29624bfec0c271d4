"""The signed append-only journal, the store-and-forward outbox, recovery at start-up."""
