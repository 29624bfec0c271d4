"""``gridpos keys load``: components proved by their check values, the key stored 0600 for the
program's user, and never shown: the test greps every line the command wrote, at full log
verbosity, for the key and its components in any case."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.protocol import sm4
from terminal.protocol.keys import load_master_key

COMPONENT_1 = bytes.fromhex("0123456789abcdeffedcba9876543210")
COMPONENT_2 = bytes.fromhex("00112233445566778899aabbccddeeff")
KEY = bytes(a ^ b for a, b in zip(COMPONENT_1, COMPONENT_2, strict=True))


def kcv(key: bytes, digits: int = 6) -> str:
    return sm4.check_value(key).hex()[:digits].upper()


@pytest.fixture
def site(tmp_path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(f'[keys]\nmaster_key_file = "{tmp_path / "master.key"}"\n')
    return path


def load(site: Path, *args: str, typed: str = "") -> subprocess.CompletedProcess:
    me = pwd.getpwuid(os.geteuid()).pw_name
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "-vv",
            "keys",
            "load",
            "--config",
            str(site),
            "--owner",
            me,
            *args,
        ],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_no_key_material(done: subprocess.CompletedProcess) -> None:
    said = (done.stdout + done.stderr).lower()
    for secret in (KEY, COMPONENT_1, COMPONENT_2):
        assert secret.hex() not in said
        assert secret.hex()[:12] not in said  # not even a part of it


def test_typed_components_with_their_check_values_load_the_key(site, tmp_path):
    typed = f"{COMPONENT_1.hex()}\n{kcv(COMPONENT_1)}\n{COMPONENT_2.hex()}\n{kcv(COMPONENT_2, 8)}\n"
    done = load(site, typed=typed)
    assert done.returncode == 0, done.stderr
    stored = tmp_path / "master.key"
    assert load_master_key(stored) == KEY
    assert stored.stat().st_mode & 0o777 == 0o600
    assert f"check value: {kcv(KEY, 8)}" in done.stdout
    assert "master key loaded" in done.stderr  # the log line, with the check value only
    assert_no_key_material(done)


def test_a_wrong_check_value_is_refused_and_nothing_is_written(site, tmp_path):
    wrong = f"{COMPONENT_1.hex()}\n{kcv(COMPONENT_1)}\n{COMPONENT_2.hex()}\n{kcv(COMPONENT_1)}\n"
    done = load(site, typed=wrong)
    assert done.returncode == 2
    assert "component 2: check value does not match" in done.stderr
    assert not (tmp_path / "master.key").exists()
    assert list(tmp_path.glob(".master.key*")) == []
    assert_no_key_material(done)


def test_a_mistyped_component_is_refused_without_echoing_it(site, tmp_path):
    done = load(site, typed=f"{COMPONENT_1.hex()[:-1]}x\n")
    assert done.returncode == 2 and "component: must be 32 hex digits" in done.stderr
    assert COMPONENT_1.hex()[:-1] not in done.stderr
    assert not (tmp_path / "master.key").exists()


def key_file(tmp_path: Path, **lines: str) -> Path:
    path = tmp_path / "load.txt"
    values = {
        "terminal": "T0000001",
        "component1": COMPONENT_1.hex().upper(),
        "kcv1": kcv(COMPONENT_1),
        "component2": " ".join(COMPONENT_2.hex()[i : i + 4] for i in range(0, 32, 4)),
        "kcv2": kcv(COMPONENT_2),
        "kcv": kcv(KEY),
        **lines,
    }
    path.write_text("# key-loading file\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
    return path


def test_a_key_loading_file_loads_and_its_check_values_are_held_to(site, tmp_path):
    refused = load(site, "--file", str(key_file(tmp_path, kcv="ABCDEF")))
    assert refused.returncode == 2 and "combined key's check value" in refused.stderr
    other = load(site, "--file", str(key_file(tmp_path, terminal="T0000002")))
    assert other.returncode == 2 and "for terminal T0000002" in other.stderr
    assert not (tmp_path / "master.key").exists()

    done = load(site, "--file", str(key_file(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert load_master_key(tmp_path / "master.key") == KEY
    assert_no_key_material(done)

    again = load(site, "--file", str(key_file(tmp_path)))
    assert again.returncode == 2 and "--replace" in again.stderr
    assert load(site, "--file", str(key_file(tmp_path)), "--replace").returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_the_key_file_belongs_to_the_program_user(site, tmp_path):
    nobody = pwd.getpwnam("nobody")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "terminal.app.cli",
            "keys",
            "load",
            "--config",
            str(site),
            "--owner",
            "nobody",
            "--file",
            str(key_file(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    stat = (tmp_path / "master.key").stat()
    assert (stat.st_uid, stat.st_gid, stat.st_mode & 0o777) == (nobody.pw_uid, nobody.pw_gid, 0o600)
