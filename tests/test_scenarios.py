"""Every flow of the terminal, as a person would do it, against the whole stack (headless demo).

Each file in ``tests/scenarios/`` runs ``gridpos demo --headless --script FILE`` in a folder
of its own (a scripted run starts from fresh state there unless given ``--keep``): station,
modem emulator, printer emulator, card emulator on vpcd, and the terminal as its own process.
Card scenarios need pcscd and vpcd (installed by ``make test`` as root); they run on this test
session's own pcscd, whose socket and vpcd port the demo inherits from the environment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.tools.scenario import KEY_NAMES, ScenarioError, parse

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.txt"))


def needs_card(path: Path) -> bool:
    return any(step.verb == "card" for step in parse(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path, tmp_path, request):
    if needs_card(path):
        request.getfixturevalue("pcscd")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "demo",
            "--headless",
            "--dir",
            str(tmp_path / "demo"),
            "--rtt-ms",
            "20",
            "--script",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    if "check books" in path.read_text(encoding="utf-8"):
        assert "books agree" in done.stdout


def test_malformed_scripts_name_the_line():
    with pytest.raises(ScenarioError, match="line 2: unknown key 'ENTER'"):
        parse("key OK\nkey ENTER\n")
    with pytest.raises(ScenarioError, match="line 1: link down"):
        parse("link sideways")
    with pytest.raises(ScenarioError, match="line 3: unknown step 'jump'"):
        parse("# comment\n\njump 3")
    with pytest.raises(ScenarioError, match="line 1: wait takes seconds"):
        parse("wait forever")
    steps = parse("expect 缴费 # not a comment in an expectation\ntype 0100000123 # digits\n")
    assert steps[0].arg == "缴费 # not a comment in an expectation"
    assert steps[1].arg == "0100000123"


STEP_WORDS = st.sampled_from(
    [
        "key",
        "type",
        "card",
        "link",
        "paper",
        "wait",
        "expect",
        "power-cut",
        "check",
        "insert",
        "remove",
        "tear",
        "before",
        "drop-after",
        "down",
        "up",
        "out",
        "in",
        "books",
        "OK",
        "#",
    ]
)
LINES = st.lists(
    st.lists(STEP_WORDS | st.text(max_size=8), max_size=4).map(" ".join) | st.text(max_size=30),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_any_script_parses_to_runnable_steps_or_names_its_bad_line(lines):
    text = "\n".join(lines)
    try:
        steps = parse(text)
    except ScenarioError as exc:
        number = int(str(exc).split(":", 1)[0].removeprefix("line "))
        assert 1 <= number <= len(text.splitlines())
        return
    for step in steps:  # what the runner will do with each argument must work
        if step.verb == "key":
            assert step.arg in KEY_NAMES or step.arg in "0123456789"
        elif step.verb == "link" and step.arg.startswith("drop-after"):
            assert int(step.arg.split()[1]) >= 0
        elif step.verb == "wait":
            assert 0 <= float(step.arg) <= 600
        elif step.verb == "type":
            assert step.arg and set(step.arg) <= set("0123456789.-")


def test_failed_expectation_exits_non_zero_with_the_line(tmp_path):
    script = tmp_path / "s.txt"
    script.write_text("expect 请按确认键登录\nexpect 这句话不会出现\n", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "demo",
            "--headless",
            "--dir",
            str(tmp_path / "demo"),
            "--script",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "FAILED at line 2" in done.stdout


def demo(folder: Path, script: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "demo",
            "--headless",
            "--dir",
            str(folder),
            "--rtt-ms",
            "20",
            "--script",
            str(script),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_scripted_run_starts_fresh_each_time_unless_kept(tmp_path):
    """The same scenario twice in one folder passes twice; ``--keep`` keeps the last run's books."""
    folder = tmp_path / "demo"
    bill = Path(__file__).parent / "scenarios" / "bill_payment.txt"
    for run in (1, 2):
        done = demo(folder, bill)
        assert done.returncode == 0, f"run {run}: " + done.stdout[-3000:] + done.stderr[-2000:]
        assert "books agree: 1 payments, 140.00 yuan" in done.stdout
    books = tmp_path / "books.txt"
    books.write_text("expect 请按确认键登录\ncheck books\n", encoding="utf-8")
    kept = demo(folder, books, "--keep")
    assert "books agree: 1 payments, 140.00 yuan" in kept.stdout, kept.stdout[-2000:]
    fresh = demo(folder, books)
    assert "books agree: 0 payments" in fresh.stdout, fresh.stdout[-2000:]
