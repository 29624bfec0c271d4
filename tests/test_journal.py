"""The signed journal: tamper detection, the lifecycle table on every append, counters, CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offline_queue.journal import Journal, JournalError
from terminal.core.lifecycle import FINAL, TRANSITIONS, State, TransitionError, mermaid

FLOW = ["created", "sent", "approved", "printing", "printed", "delivering", "completed"]


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "j.db", tmp_path / "j.key")
    for trace in range(1, 5):
        for event in FLOW:
            j.append(f"T0000001/001/{trace:06d}", event, {"amount_fen": trace * 100})
    yield j
    j.close()


def raw(journal: Journal) -> sqlite3.Connection:
    return sqlite3.connect(journal.path)


def reopen(journal: Journal, tmp_path) -> Journal:
    journal.close()
    return Journal(tmp_path / "j.db", tmp_path / "j.key")


def test_intact_journal_verifies(journal):
    verdict = journal.verify()
    assert verdict.ok and verdict.entries == 28


def test_key_file_is_created_private(journal, tmp_path):
    mode = stat.S_IMODE(os.stat(tmp_path / "j.key").st_mode)
    assert mode == 0o600


def test_edited_entry_is_named(journal, tmp_path):
    with raw(journal) as db:
        db.execute("UPDATE entries SET payload = ? WHERE seq = 10", ['{"amount_fen":1}'])
    verdict = reopen(journal, tmp_path).verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 10)
    assert "altered" in verdict.reason


def test_deleted_entry_is_named(journal, tmp_path):
    with raw(journal) as db:
        db.execute("DELETE FROM entries WHERE seq = 5")
    verdict = reopen(journal, tmp_path).verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 5)
    assert "missing" in verdict.reason


def test_inserted_entry_is_named(journal, tmp_path):
    with raw(journal) as db:
        rows = db.execute(
            "SELECT seq, txn, event, payload, time, mac FROM entries"
            " WHERE seq >= 7 ORDER BY seq DESC"
        ).fetchall()
        for row in rows:  # shift everything from 7 on by one, then slip a forged row in
            db.execute("UPDATE entries SET seq = ? WHERE seq = ?", (row[0] + 1, row[0]))
        db.execute(
            "INSERT INTO entries VALUES (7, 'T0000001/001/000009', 'created', '{}',"
            " '2026-11-22T00:00:00.000+00:00', ?)",
            ("00" * 32,),
        )
    verdict = reopen(journal, tmp_path).verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 7)


def test_reordered_entries_are_named(journal, tmp_path):
    with raw(journal) as db:
        a = db.execute(
            "SELECT txn, event, payload, time, mac FROM entries WHERE seq = 12"
        ).fetchone()
        b = db.execute(
            "SELECT txn, event, payload, time, mac FROM entries WHERE seq = 13"
        ).fetchone()
        db.execute("UPDATE entries SET txn=?, event=?, payload=?, time=?, mac=? WHERE seq = 12", b)
        db.execute("UPDATE entries SET txn=?, event=?, payload=?, time=?, mac=? WHERE seq = 13", a)
    verdict = reopen(journal, tmp_path).verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 12)


def test_cut_off_tail_is_detected(journal, tmp_path):
    with raw(journal) as db:
        db.execute("DELETE FROM entries WHERE seq > 20")
    verdict = reopen(journal, tmp_path).verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 21)
    assert "cut off" in verdict.reason


def test_cut_off_tail_with_a_forged_head_is_detected(journal, tmp_path):
    with raw(journal) as db:
        db.execute("DELETE FROM entries WHERE seq > 20")
        mac = db.execute("SELECT mac FROM entries WHERE seq = 20").fetchone()[0]
        db.execute("UPDATE head SET seq = 20, mac = ?", (mac,))
    verdict = reopen(journal, tmp_path).verify()
    assert not verdict.ok and "head" in verdict.reason


def test_appended_entry_without_key_is_detected(journal, tmp_path):
    with raw(journal) as db:
        db.execute(
            "INSERT INTO entries VALUES (29, 'T0000001/001/000009', 'created', '{}',"
            " '2026-11-22T00:00:00.000+00:00', ?)",
            ("00" * 32,),
        )
    verdict = reopen(journal, tmp_path).verify()
    assert (verdict.ok, verdict.bad_seq) == (False, 29)


def test_lifecycle_refuses_an_event_out_of_order(journal):
    with pytest.raises(TransitionError):
        journal.append("T0000001/001/000077", "approved")
    journal.append("T0000001/001/000077", "created")
    with pytest.raises(TransitionError):
        journal.append("T0000001/001/000077", "printing")
    assert journal.verify().ok  # nothing was written by the refused appends


def test_states_survive_reopening(journal, tmp_path):
    journal.append("T0000001/001/000009", "created")
    journal.append("T0000001/001/000009", "sent")
    again = reopen(journal, tmp_path)
    assert again.state("T0000001/001/000009") is State.SENT
    assert again.open_transactions() == ["T0000001/001/000009"]
    again.close()


def test_trace_numbers_are_never_handed_out_twice(tmp_path):
    j = Journal(tmp_path / "j.db", tmp_path / "j.key")
    first = [j.take_trace() for _ in range(3)]
    j.close()
    j = Journal(tmp_path / "j.db", tmp_path / "j.key")
    assert j.take_trace() == first[-1] + 1
    j.set_counter("next_trace", 999999)
    assert j.take_trace() == 999999 and j.take_trace() == 1
    j.close()


def test_a_file_that_is_not_a_journal_is_a_clear_error(tmp_path):
    (tmp_path / "bad.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(tmp_path / "bad.db", tmp_path / "j.key")
    (tmp_path / "bad.key").write_text("xyz")
    with pytest.raises(JournalError, match="64 hex digits"):
        Journal(tmp_path / "new.db", tmp_path / "bad.key")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted({e for _, e in TRANSITIONS})), max_size=12))
def test_journal_state_is_the_table_applied_to_the_accepted_events(tmp_path_factory, events):
    folder = tmp_path_factory.mktemp("j")
    j = Journal(folder / "j.db", folder / "j.key")
    state = State.NEW
    for event in events:
        target = TRANSITIONS.get((state, event))
        if target is None:
            with pytest.raises(TransitionError):
                j.append("T/1/1", event)
        else:
            j.append("T/1/1", event)
            state = target
    assert j.state("T/1/1") is state
    assert ("T/1/1" in j.open_transactions()) == (state not in FINAL and state is not State.NEW)
    assert j.verify().ok
    j.close()


def test_every_state_but_the_final_ones_can_move_on():
    movable = {state for state, _ in TRANSITIONS}
    for state in State:
        if state not in FINAL:
            assert state in movable, state
    assert "stateDiagram-v2" in mermaid()


# --- the command line ---------------------------------------------------------------------


def gridpos(*args):
    return subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_verify_show_export(journal, tmp_path):
    journal.close()
    paths = ["--db", str(tmp_path / "j.db"), "--key", str(tmp_path / "j.key")]
    ok = gridpos("journal", "verify", *paths)
    assert ok.returncode == 0 and "intact, 28 entries" in ok.stdout
    shown = gridpos("journal", "show", *paths, "--txn", "T0000001/001/000002")
    assert shown.returncode == 0 and "state: completed" in shown.stdout
    exported = gridpos("journal", "export", *paths, "--format", "json")
    assert len(json.loads(exported.stdout)) == 28
    as_csv = gridpos("journal", "export", *paths)
    assert as_csv.stdout.splitlines()[0] == "seq,time,txn,event,payload,mac"
    with sqlite3.connect(tmp_path / "j.db") as db:
        db.execute("DELETE FROM entries WHERE seq = 3")
    bad = gridpos("journal", "verify", *paths)
    assert bad.returncode == 1 and "first bad entry: 3" in bad.stdout
    missing = gridpos(
        "journal", "verify", "--db", str(tmp_path / "none.db"), "--key", str(tmp_path / "j.key")
    )
    assert missing.returncode == 2 and "journal not found" in missing.stderr


def test_journal_document_shows_the_lifecycle_table():
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent.joinpath("docs", "journal.md").read_text()
    assert mermaid() in doc
