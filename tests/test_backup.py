"""The daily journal backup: a consistent copy, verified before it counts, rotated after.

The journal stays open and is written while copies are made, as on a terminal where the timer
fires during business; a journal that no longer verifies must not replace any good copy.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from offline_queue.backup import BackupError, backup_journal, backups
from offline_queue.journal import Journal
from terminal.core.lifecycle import SYSTEM

DAY = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture
def journal(tmp_path):
    opened = Journal(tmp_path / "journal.db", tmp_path / "journal.key")
    for batch in range(1, 6):
        opened.append(SYSTEM, "signed_on", {"operator": "01", "batch": batch})
    yield opened
    opened.close()


def test_a_copy_of_an_open_journal_holds_every_entry_and_verifies(journal, tmp_path):
    journal.append(SYSTEM, "batch_closed", {"batch": 5})  # still in the WAL, not checkpointed
    made = backup_journal(journal.path, tmp_path / "journal.key", tmp_path / "backup", keep=3)
    assert made.entries == journal.head_seq == 6
    assert made.path.name.startswith("journal-" + datetime.now(UTC).strftime("%Y%m%dT"))
    assert [p.name for p in (tmp_path / "backup").iterdir()] == [made.path.name]  # no -wal, no part
    copy = Journal(made.path, tmp_path / "journal.key", create=False)
    try:
        assert copy.verify().ok
        assert [e.payload for e in copy.entries()] == [e.payload for e in journal.entries()]
    finally:
        copy.close()


def test_rotation_keeps_the_newest_copies(journal, tmp_path):
    folder = tmp_path / "backup"
    for day in range(4):
        made = backup_journal(
            journal.path, tmp_path / "journal.key", folder, keep=2, now=DAY + timedelta(days=day)
        )
    assert [p.name for p in backups(folder)] == [
        "journal-20261202T030000Z.db",
        "journal-20261203T030000Z.db",
    ]
    assert [p.name for p in made.removed] == ["journal-20261201T030000Z.db"]


def test_a_journal_that_does_not_verify_is_refused_and_the_good_copies_stay(journal, tmp_path):
    folder = tmp_path / "backup"
    good = backup_journal(journal.path, tmp_path / "journal.key", folder, keep=1, now=DAY)
    with sqlite3.connect(journal.path) as raw:  # someone edits an entry behind the journal
        raw.execute("UPDATE entries SET payload = ? WHERE seq = 2", ['{"batch":99}'])
    with pytest.raises(BackupError, match="does not verify: entry 2 was altered"):
        backup_journal(
            journal.path, tmp_path / "journal.key", folder, keep=1, now=DAY + timedelta(days=1)
        )
    assert backups(folder) == [good.path]
    assert sorted(p.name for p in folder.iterdir()) == [good.path.name]  # no partial copy left


def test_the_command_uses_the_configured_folder(journal, tmp_path, capsys):
    from terminal.app.cli import main

    site = tmp_path / "site.toml"
    site.write_text(
        f'[journal]\npath = "{journal.path}"\nkey_file = "{tmp_path / "journal.key"}"\n'
        f'backup_dir = "{tmp_path / "daily"}"\nbackup_keep = 2\n'
    )
    assert main(["journal", "backup", "--config", str(site)]) == 0
    assert "verified, 5 entries" in capsys.readouterr().out
    assert len(backups(tmp_path / "daily")) == 1
    (tmp_path / "journal.key").write_text("00" * 32 + "\n")  # the wrong key: nothing verifies
    assert main(["journal", "backup", "--config", str(site)]) == 1
    assert "journal backup failed" in capsys.readouterr().err
    assert len(backups(tmp_path / "daily")) == 1
