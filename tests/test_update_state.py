"""The update lifecycle as a pure state machine: every transition, and the events that change
nothing, without files, links or clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from terminal.core.update_state import (
    Checked,
    Downloaded,
    InstallFailed,
    Installing,
    Offered,
    Ready,
    Stage,
    Switched,
    UpdateState,
    Withdrawn,
    step,
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def offer(version="0.2.0", signed=True, running="0.1.0", signature="ab"):
    return Offered(version, 1000, "11" * 32, signature, signed, running)


def run(*events):
    state = UpdateState()
    for event in events:
        state = step(state, event)
    return state


def test_a_signed_offer_goes_all_the_way_to_confirmed():
    deadline = NOW + timedelta(minutes=5)
    state = run(offer(), Downloaded(True), Installing("0.1.0"), Switched(deadline), Ready("0.2.0"))
    assert state.stage is Stage.CONFIRMED
    assert (state.version, state.previous, state.deadline) == (
        "0.2.0",
        "0.1.0",
        deadline.isoformat(),
    )


def test_a_bad_signature_is_refused_and_the_same_offer_is_not_taken_again():
    refused = run(offer(signed=False))
    assert refused.stage is Stage.REFUSED and refused.reason == "bad_signature"
    assert step(refused, offer(signed=False)) == refused
    assert step(refused, offer(signed=True)) == refused  # same signature bytes: same verdict
    resigned = step(refused, offer(signed=True, signature="cd"))
    assert resigned.stage is Stage.DOWNLOADING


def test_a_hash_mismatch_refuses_and_a_later_version_is_taken():
    refused = run(offer(), Downloaded(False))
    assert refused.stage is Stage.REFUSED and refused.reason == "hash_mismatch"
    assert step(refused, offer("0.3.0")).stage is Stage.DOWNLOADING


def test_a_trial_past_its_deadline_rolls_back_and_the_version_is_not_retried():
    installed = run(offer(), Downloaded(True), Installing("0.1.0"), Switched(NOW))
    assert step(installed, Checked(NOW - timedelta(seconds=1))) == installed
    rolled = step(installed, Checked(NOW))
    assert rolled.stage is Stage.ROLLED_BACK and rolled.reason == "not_ready_in_time"
    assert step(rolled, offer()) == rolled
    assert step(rolled, Ready("0.2.0")) == rolled  # too late: the old version runs again


def test_a_confirmed_version_offered_again_is_not_downloaded_again():
    deadline = NOW + timedelta(minutes=5)
    confirmed = run(offer(), Downloaded(True), Installing(""), Switched(deadline), Ready("0.2.0"))
    assert step(confirmed, offer()) == confirmed  # even if the program misreports its version
    assert step(confirmed, offer("0.3.0")).stage is Stage.DOWNLOADING


def test_one_update_at_a_time_and_nothing_for_the_running_version():
    downloading = run(offer())
    assert step(downloading, offer("0.3.0")) == downloading
    assert step(downloading, offer()) == downloading  # the same offer again: resume
    assert run(offer(running="0.2.0")) == UpdateState()


@pytest.mark.parametrize(
    "event",
    [Downloaded(True), Installing("x"), Switched(NOW), Ready("0.2.0"), Checked(NOW), Withdrawn()],
)
def test_events_out_of_turn_change_nothing(event):
    assert step(UpdateState(), event) == UpdateState()


def test_withdrawn_and_failed_installs():
    assert run(offer(), Withdrawn()).stage is Stage.NONE
    failed = run(offer(), Downloaded(True), Installing(""), InstallFailed("unpack: disk full"))
    assert failed.stage is Stage.ROLLED_BACK and failed.reason == "unpack: disk full"


def test_state_survives_its_json_line():
    state = run(offer(), Downloaded(True), Installing("0.1.0"), Switched(NOW))
    assert UpdateState.from_json(state.to_json()) == state
