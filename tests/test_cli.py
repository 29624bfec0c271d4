"""The ``gridpos`` command: one entry point, every subcommand listed, each with its own --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from terminal.app.cli import COMMANDS, GROUPS


def gridpos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_help_lists_every_command_and_group():
    done = gridpos("--help")
    assert done.returncode == 0
    for path in COMMANDS:
        assert path[0] in done.stdout
    for group in {path[0] for path in COMMANDS if len(path) == 2}:
        assert group in GROUPS
        listing = gridpos(group, "--help")
        assert listing.returncode == 0
        for path in COMMANDS:
            if path[0] == group:
                assert path[1] in listing.stdout


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_command_has_its_own_help(path):
    done = gridpos(*path, "--help")
    assert done.returncode == 0, done.stderr
    assert COMMANDS[path][1] in " ".join(done.stdout.split())


def test_help_imports_no_command_module():
    layers_above = "('sim.', 'station', 'drivers.', 'ui.', 'terminal.shell', 'terminal.tools')"
    code = (
        "import sys; from terminal.app.cli import build_parser; build_parser(); "
        f"print(sorted(m for m in sys.modules if m.startswith({layers_above})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_unknown_command_is_a_usage_error():
    done = gridpos("frobnicate")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
