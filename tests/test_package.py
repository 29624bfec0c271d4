"""The Debian package: built, checked by lintian, installed into a scratch root, run, purged.

``packaging/build-deb.sh`` builds the package (about 17 s here: pip from the local index, xz);
``dpkg --root`` with ``--force-script-chrootless`` installs it into a scratch root and runs the
real maintainer scripts against it (they honour ``DPKG_ROOT``), so the user, the groups, the
state directory and the bytecode are made as on a terminal, without touching this machine.
``systemd-analyze verify`` then reads the installed units in that root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("dpkg-deb") and shutil.which("dpkg") and shutil.which("useradd")),
        reason="dpkg-deb, dpkg and useradd are needed to build and install the package",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="dpkg --root installs files owned by gridpos"),
]

HOST_PYTHON = Path("/usr/bin/python3")


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deb")
    python = str(HOST_PYTHON if HOST_PYTHON.exists() else Path(sys.executable))
    done = subprocess.run(
        [str(ROOT / "packaging" / "build-deb.sh"), str(out)],
        env={**os.environ, "PYTHON": python},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def scratch_root(path: Path) -> Path:
    """The least a root needs for dpkg and useradd: a dpkg database and the account files."""
    for folder in ("etc", "var/lib/dpkg/info", "var/lib/dpkg/updates"):
        (path / folder).mkdir(parents=True, exist_ok=True)
    (path / "var/lib/dpkg/status").touch()
    (path / "var/lib/dpkg/available").touch()
    (path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (path / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    (path / "etc/group").write_text("root:x:0:\ninput:x:101:\nlp:x:7:\ndialout:x:20:\n")
    (path / "etc/gshadow").write_text("root:*::\ninput:!::\nlp:*::\ndialout:*::\n")
    return path


def dpkg(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [
            "dpkg",
            f"--root={root}",
            "--force-script-chrootless",
            "--force-depends",
            "--log=/dev/null",
            *args,
        ],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def installed_python(root: Path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` with the package's libraries only (isolated, as /usr/bin/gridpos does)."""
    python = str(HOST_PYTHON if HOST_PYTHON.exists() else Path(sys.executable))
    prelude = f"import sys; sys.path.insert(0, {str(root / 'usr/lib/gridpos')!r}); "
    return subprocess.run(
        [python, "-I", "-c", prelude + code], capture_output=True, text=True, timeout=60
    )


def test_the_package_installs_runs_and_purge_keeps_the_journal(deb: Path, tmp_path: Path):
    root = scratch_root(tmp_path / "root")
    dpkg(root, "-i", str(deb))

    for path in (
        "usr/bin/gridpos",
        "lib/systemd/system/gridpos.service",
        "lib/systemd/system/gridpos-backup.timer",
        "lib/udev/rules.d/60-gridpos.rules",
        "etc/gridpos/gridpos.toml",
        "usr/share/doc/gridpos/copyright",
    ):
        assert (root / path).is_file(), path
    passwd = (root / "etc/passwd").read_text().splitlines()
    user = [line for line in passwd if line.startswith("gridpos:")]
    assert len(user) == 1 and user[0].endswith(":/usr/sbin/nologin")
    uid = int(user[0].split(":")[2])
    for group in ("dialout", "lp", "input"):
        line = next(g for g in (root / "etc/group").read_text().splitlines() if g.startswith(group))
        assert line.endswith("gridpos"), line
    state = (root / "var/lib/gridpos").stat()
    assert state.st_uid == uid and state.st_mode & 0o777 == 0o750
    assert list((root / "usr/lib/gridpos/terminal").glob("__pycache__/*.pyc")), "postinst compiles"
    assert not (root / "usr/lib/gridpos/PIL").exists(), "Pillow comes from Debian"

    # The installed program, on its own libraries, reads the shipped configuration and does SM4.
    check = installed_python(
        root,
        "from terminal.app.cli import main; from terminal.protocol import sm4; "
        "print(sm4.check_value(bytes(16)).hex()); "
        f"sys.exit(main(['config', 'check', {str(root / 'etc/gridpos/gridpos.toml')!r}]))",
    )
    assert check.returncode == 0, check.stderr
    from terminal.protocol import sm4

    kcv, verdict = check.stdout.split("\n", 1)
    assert kcv == sm4.check_value(bytes(16)).hex()
    assert verdict.strip().endswith("gridpos.toml: ok")

    # /usr/bin/gridpos itself, pointed at the scratch root's /usr/lib/gridpos.
    launcher = (root / "usr/bin/gridpos").read_text()
    assert launcher.startswith("#!/usr/bin/python3 -I\n") and '"/usr/lib/gridpos"' in launcher
    code = launcher.replace('"/usr/lib/gridpos"', repr(str(root / "usr/lib/gridpos")))
    python = str(HOST_PYTHON if HOST_PYTHON.exists() else Path(sys.executable))
    version = subprocess.run(
        [python, "-I", "-c", code, "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and version.stdout.startswith("gridpos 0."), version.stderr

    # Purge keeps the journal of payments; asked, it removes it.
    (root / "var/lib/gridpos/journal.db").write_bytes(b"payments")
    purged = dpkg(root, "--purge", "gridpos")
    assert (root / "var/lib/gridpos/journal.db").read_bytes() == b"payments"
    assert "GRIDPOS_PURGE_JOURNAL=yes" in purged.stderr
    assert not (root / "usr/lib/gridpos").exists()
    assert not (root / "etc/gridpos/gridpos.toml").exists()

    dpkg(root, "-i", str(deb))
    dpkg(root, "--purge", "gridpos", env={"GRIDPOS_PURGE_JOURNAL": "yes"})
    assert not (root / "var/lib/gridpos").exists()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_installed_units(deb: Path, tmp_path: Path):
    root = scratch_root(tmp_path / "root")
    dpkg(root, "-i", str(deb))
    # The targets the units name (multi-user, timers, sysinit) come from this machine's systemd.
    units = root / "lib/systemd/system"
    for unit in Path("/lib/systemd/system").iterdir():
        if not (units / unit.name).exists() and unit.is_file():
            shutil.copy(unit, units / unit.name)
    names = ["gridpos.service", "gridpos-backup.service", "gridpos-backup.timer"]
    done = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", *(str(units / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    service = (units / "gridpos.service").read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=30",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "DevicePolicy=closed",
        "ReadWritePaths=/var/lib/gridpos",
    ):
        assert line in service.splitlines(), line


def test_udev_rules_keep_modemmanager_off_every_modem_and_printer_port():
    """Each rule line is well formed, and every serial port the program may use is ignored by
    ModemManager (udevadm of systemd 252 has no ``verify``; the form is checked here)."""
    import re

    text = (ROOT / "packaging/60-gridpos.rules").read_text()
    pair = re.compile(r'\s*([A-Z_]+(?:\{[A-Za-z_]+\})?)\s*(==|!=|\+=|=|:=)\s*"([^"]*)"\s*')
    usb_ids = set()
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(",")
        matched = [pair.fullmatch(p) for p in parts]
        assert all(matched), line
        keys = {m.group(1): m.group(3) for m in matched if m}
        if "ATTRS{idVendor}" in keys:
            usb_ids.add((keys["ATTRS{idVendor}"], keys["ATTRS{idProduct}"]))
            assert keys.get("ENV{ID_MM_DEVICE_IGNORE}") == "1", line
    for adapter in (("1a86", "7523"), ("10c4", "ea60"), ("067b", "2303"), ("0403", "6001")):
        assert adapter in usb_ids, adapter


@pytest.mark.skipif(not shutil.which("lintian"), reason="lintian is not installed")
def test_lintian_finds_no_errors(deb: Path):
    done = subprocess.run(
        ["lintian", "--allow-root", str(deb)], capture_output=True, text=True, timeout=300
    )
    errors = [line for line in done.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], "\n".join(errors)
    assert done.returncode == 0, done.stderr  # lintian fails on errors, and on a bad call
