"""The configuration loader: defaults load, bad files are named key by key, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.loader import DEFAULT_PATH, ConfigError, load_config


def test_defaults_load_and_document_every_key():
    config = load_config()
    assert config.terminal.id == "T0000001"
    assert config.modem.dialect == "sim800"
    assert config.modem.receive == "push"
    assert config.printer.paper_width_mm == 58
    assert config.ui.locale == "zh_CN"
    # every key in default.toml has a comment line above it or in its section header
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert text.count("#") > len(tomllib.loads(text))


def test_site_file_overlays_defaults(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[modem]\ndialect = "m26"\n[station]\nport = 9000\n', encoding="utf-8")
    config = load_config(site)
    assert config.modem.dialect == "m26"
    assert config.station.port == 9000
    assert config.modem.baudrate == 115200  # untouched default
    assert config.source == str(site)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[modem]\ndialect = "sim900"\n',
            "modem.dialect: must be one of sim800, m26, not 'sim900'",
        ),
        ("[station]\nport = 70000\n", "station.port: must be between 1 and 65535, not 70000"),
        ('[station]\nport = "80"\n', "station.port: must be a whole number, not '80'"),
        ("[modem]\nbaud = 9600\n", "modem.baud: unknown key"),
        ("[modme]\n", "modme: unknown key"),
        ('modem = "x"\n', "modem: must be a table [modem]"),
        ('[terminal]\nid = "T1"\n', "terminal.id: 'T1' does not have the expected form"),
        ("[limits]\nmin_purchase_fen = 300000\n", "limits.min_purchase_fen: larger than"),
        ("[keypad]\ngrab = 1\n", "keypad.grab: must be true or false, not 1"),
        ("[modem\n", "not valid TOML"),
        ('[modem]\nreceive = "pull"\n', "modem.receive: must be one of push, manual, not 'pull'"),
    ],
)
def test_bad_file_names_file_and_key(tmp_path, body, message):
    site = tmp_path / "site.toml"
    site.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(site)
    assert str(info.value).startswith(f"{site}: ")
    assert message in str(info.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")
    blob = tmp_path / "blob.toml"
    blob.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(blob)


def test_overrides_are_checked_like_file_values():
    assert load_config(overrides={"station.port": 1234}).station.port == 1234
    with pytest.raises(ConfigError, match=r"override: station\.port"):
        load_config(overrides={"station.port": 0})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8")))
def test_any_file_content_gives_config_or_config_error(tmp_path_factory, content):
    site = tmp_path_factory.mktemp("fuzz") / "site.toml"
    site.write_bytes(content)
    try:
        load_config(site)
    except ConfigError as exc:
        assert str(exc).startswith(f"{site}: ")


def test_cli_reports_broken_file_without_traceback(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[ui]\nlocale = "fr"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", "config", "check", str(site)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"gridpos: {site}: ui.locale: must be one of zh_CN, en, not 'fr'"
    assert "Traceback" not in done.stderr
