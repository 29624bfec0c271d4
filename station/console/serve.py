"""The console served over HTTP from a background thread: for ``gridpos console``, the demo and
the browser tests, which need its address before they go on.

Werkzeug's threaded server is enough for a county office's handful of managers; a larger
utility puts the same WSGI app (``create_app``) behind its own server.
"""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from station.console.app import create_app


class ConsoleServer:
    def __init__(self, database: str, host: str = "127.0.0.1", port: int = 0, **options) -> None:
        self.app = create_app(database, **options)
        self.server = make_server(host, port, self.app, threaded=True)
        self.host = host
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="console"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ConsoleServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.app.extensions["console_engine"].dispose()
