"""One module per page; ``register`` adds their blueprints to the app."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from station.console.views import (
        accounts,
        agents,
        intake,
        login,
        monitor,
        orgs,
        payments,
        recon,
        terminals,
        verify,
    )

    pages = (login, orgs, agents, terminals, payments, recon, monitor, intake, verify, accounts)
    for module in pages:
        app.register_blueprint(module.page)
