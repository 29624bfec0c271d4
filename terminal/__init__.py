"""The application core: protocol, transaction engine and lifecycle, services, app wiring, CLI."""
