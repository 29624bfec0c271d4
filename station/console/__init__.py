"""The POS management console (POS管理系统): the utility's web pages over the station's database.

Flask, because it is the smallest mainstream Python web framework that still brings what a
management console needs — server-rendered Jinja templates, signed sessions, CSRF through
Flask-WTF, a test client — without a component system, JavaScript build or ORM of its own. The
pages are plain HTML forms and tables with a little CSS: they work on an old office PC's
browser, print as they are, and need no script at all.

The console reads and writes the station's tables (``station.ledger``'s table and column names)
with plain SQL through SQLAlchemy Core on an engine made from the station's database URL, so the
same queries serve the embedded SQLite ledger and PostgreSQL. Its own tables — accounts, the
organisation tree, the agent top-up journal, the journal of commands sent to terminals — are
created by ``station.console.schema``.

Layout: ``app`` (the factory), ``db`` (engine, faults), ``schema`` (own tables, demo data),
``auth`` (accounts, lockout, roles and what each may see), ``forms`` (every form and its plain
errors), ``queries`` (the reports' SQL), ``export`` (CSV and XLSX), ``views/`` (one module per
page), ``templates/``.
"""
