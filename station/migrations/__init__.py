"""Alembic's scripts for the ledger's schema (``station.schema`` runs them; no alembic.ini)."""
