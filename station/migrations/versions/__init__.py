"""The ledger's schema revisions, oldest first; ``station.schema.HEAD`` names the newest."""
