"""The console's Flask application factory.

``create_app(database)`` builds the app on the station's database (a path or a URL), creates
the console's tables, and registers one blueprint per page. A database fault anywhere becomes a
page saying "操作异常！" (and a log line with the detail), never a traceback in the browser.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from station.console import db, schema
from station.console.texts import TEXTS, t

log = logging.getLogger("gridpos.console")

SILENT_AFTER = timedelta(minutes=15)  # 3 heartbeats of the default period missed
ONE_SIDED_AFTER = timedelta(minutes=30)  # a completion later than this is owed, not slow


def create_app(
    database: str,
    *,
    secret_key: bytes | None = None,
    seed_demo: bool = False,
    silent_after: timedelta = SILENT_AFTER,
) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or os.urandom(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        SILENT_AFTER=silent_after,
        ONE_SIDED_AFTER=ONE_SIDED_AFTER,
        STATION_DB=database,  # the ledger itself, for the checks only the station can make
    )
    engine = db.make_engine(database)
    app.extensions["console_engine"] = engine
    schema.create(engine)
    if seed_demo:
        schema.seed_demo(engine)
    CSRFProtect(app)
    app.jinja_env.filters["yuan"] = db.yuan
    app.jinja_env.filters["local"] = db.local_time
    app.jinja_env.globals["t"] = t
    app.jinja_env.globals["TEXTS"] = TEXTS

    from station.console.views import register

    register(app)

    @app.before_request
    def _who() -> object:
        from station.console.auth import load_user

        g.user = None
        account = session.get("account")
        if account:
            with engine.connect() as connection:
                g.user = load_user(connection, account)
        if g.user is None and request.endpoint not in ("login.login", "static"):
            return redirect(url_for("login.login"))
        return None

    @app.errorhandler(db.DbError)
    def _db_fault(exc: Exception):
        log.error("database fault on %s: %s", request.path, exc)
        return render_template("message.html", message=t("db_fault")), 500

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return render_template("message.html", message=t("bad_form")), 400

    @app.errorhandler(403)
    def _forbidden(exc):
        return render_template("message.html", message=t("not_allowed")), 403

    @app.errorhandler(404)
    def _missing(exc):
        return render_template("message.html", message=t("not_found")), 404

    return app


def engine_of(app: Flask):
    return app.extensions["console_engine"]
