"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a temporary folder.

``initdb`` makes a cluster in a folder of its own and ``pg_ctl`` starts it listening on a unix
socket in that folder only (no TCP port, so nothing to collide with on a shared machine).
PostgreSQL refuses to run as root: as root (CI runs ``make test`` as root) the cluster belongs to
the ``postgres`` user the Debian package creates and its commands run through ``runuser``.
Each test gets a fresh schema of its own (``fresh_url``), far cheaper than a database.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from station.db import with_search_path

DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin/initdb"
SUPERUSER = "gridpos"
SOCKET_PORT = 5432  # names the socket file in the cluster's own folder; no TCP port is opened


def find_binaries() -> Path | None:
    """The folder of the newest installed server's initdb/pg_ctl, None when there is none."""
    found = sorted(glob.glob(DEBIAN_BINARIES), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def why_not() -> str | None:
    """Why a cluster cannot be started here, or None when it can."""
    if find_binaries() is None:
        return "the PostgreSQL server (initdb, pg_ctl) is not installed: apt install postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


class Cluster:
    """A running cluster; ``url`` reaches its ``postgres`` database as the superuser."""

    def __init__(self, durable: bool = False) -> None:
        binaries = find_binaries()
        assert binaries is not None, why_not()
        self.bin = binaries
        as_root = os.geteuid() == 0
        # As root the server's user must reach the folder: /tmp, not a TMPDIR under /root.
        where = "/tmp" if as_root and os.path.isdir("/tmp") else None
        self.folder = Path(tempfile.mkdtemp(prefix="gridpos-pg-", dir=where))
        self.data = self.folder / "data"
        self.as_owner: list[str] = []
        if as_root:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://{SUPERUSER}@/postgres?host={quote(str(self.folder), safe='')}"
        self._schemas = itertools.count(1)
        self._run("initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "--no-locale",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        settings = f"-k {self.folder} -p {SOCKET_PORT} -c listen_addresses=''"
        settings += " -c max_connections=300"
        if not durable:  # a test cluster: durability is not what the tests check (benches do)
            settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", self.data, "-o", settings, "-l", self.folder / "log", "-w",
                  "-t", "60", "start")  # fmt: skip

    def _run(self, program: str, *args: object) -> None:
        command = [*self.as_owner, str(self.bin / program), *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{tail}")

    def fresh_url(self) -> str:
        """A URL whose tables live in a new, empty schema (``search_path`` set by libpq)."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._schemas)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return with_search_path(self.url, name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
