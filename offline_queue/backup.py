"""``gridpos journal backup``: a daily copy of the signed journal, proved good before it counts.

The copy is made with SQLite's online backup API, so it is a consistent snapshot even while the
terminal program appends to the journal (WAL lets both run). It is written under a temporary
name, synced, opened as a journal and checked with the journal's own ``verify`` (every entry's
MAC, the chain and the sealed head) under the journal's key; only a copy that passes gets its
final name, and only then are the oldest copies beyond ``keep`` removed. A journal that fails
the check is therefore never allowed to push a good backup out of the rotation.

The copies need the journal key (``journal.key_file``) to be verified later; the key is not in
the copy.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from offline_queue.journal import Journal, JournalError

PREFIX = "journal-"
SUFFIX = ".db"


class BackupError(Exception):
    """No good copy was made; the earlier copies are untouched."""


@dataclass(frozen=True)
class Backup:
    """One verified copy, and the older copies the rotation removed."""

    path: Path
    entries: int
    removed: tuple[Path, ...]


def backup_journal(
    journal_path: str | Path,
    key_file: str | Path,
    folder: str | Path,
    keep: int,
    now: datetime | None = None,
) -> Backup:
    """Copy, verify, then rotate; raises ``BackupError`` when the copy is not a good journal."""
    source = Path(journal_path)
    if not source.exists():
        raise BackupError(f"{source}: journal not found")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    final = folder / f"{PREFIX}{stamp}{SUFFIX}"
    partial = folder / f".{final.name}.partial"
    _remove(partial)
    try:
        _copy(source, partial)
        entries = _verified(partial, key_file)
    except BaseException:
        _remove(partial)
        raise
    os.replace(partial, final)
    _sync_dir(folder)
    return Backup(final, entries, tuple(_rotate(folder, keep)))


def backups(folder: str | Path) -> list[Path]:
    """The verified copies in ``folder``, oldest first (the name carries the UTC time)."""
    return sorted(Path(folder).glob(f"{PREFIX}*{SUFFIX}"))


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: cannot copy the journal: {exc}") from None
    finally:
        dst.close()
        src.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _verified(copy: Path, key_file: str | Path) -> int:
    try:
        journal = Journal(copy, key_file, create=False)
    except JournalError as exc:
        raise BackupError(f"{copy}: the copy is not a journal: {exc}") from None
    try:
        verdict = journal.verify()
    finally:
        journal.close()
    for extra in ("-wal", "-shm"):  # opening it as a journal switched it to WAL
        _remove(Path(f"{copy}{extra}"))
    if not verdict.ok:
        raise BackupError(f"the copy does not verify: {verdict.reason}; earlier copies are kept")
    return verdict.entries


def _rotate(folder: Path, keep: int) -> list[Path]:
    old = backups(folder)[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the command ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="site configuration file (journal paths, backup_dir)")
    parser.add_argument("--to", help="folder for the copies (default: journal.backup_dir)")
    parser.add_argument("--keep", type=int, help="copies kept (default: journal.backup_keep)")


def run(args: argparse.Namespace) -> int:
    from config.loader import load_config

    config = load_config(args.config).journal
    keep = args.keep if args.keep is not None else config.backup_keep
    try:
        made = backup_journal(config.path, config.key_file, args.to or config.backup_dir, keep)
    except (BackupError, JournalError) as exc:
        print(f"gridpos: journal backup failed: {exc}", file=sys.stderr)
        return 1
    removed = len(made.removed)
    print(f"{made.path}: verified, {made.entries} entries; {removed} older copies removed")
    return 0
