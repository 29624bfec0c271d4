"""Software updates over the station link: offered in the 0830, downloaded in chunks that survive
cuts at random bytes and restarts, refused when the signature is not the release key's, installed
only when no transaction is open, and rolled back when the new version does not start."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta

import pytest

from station.updates import DIR_PARAM
from terminal.core.update_state import Stage, UpdateState
from terminal.protocol import messages as m
from terminal.shell.update_store import UpdateStore
from terminal.shell.update_trial import Trial, supervise
from terminal.shell.updates import Updater, handle_update_offer
from terminal.tools.release import new_release_key, pack, publish, sign
from tests.net_proxy import Plan, Proxy
from tests.terminal_kit import make_terminal

RUNNING = "0.1.0"
NEW = "0.2.0"


@pytest.fixture
def release():
    return new_release_key()


@pytest.fixture
def offered_dir(station, tmp_path):
    folder = tmp_path / "offered"
    folder.mkdir()
    station.ledger.set_param(DIR_PARAM, str(folder))
    return folder


def program_files(
    version: str, starts: bool, size: int = 0, stays: bool = True
) -> dict[str, bytes]:
    """A version whose start.py reports ready (then runs on, or ends when not ``stays``), or
    dies at once; padded with ``size`` bytes of incompressible data to a real package's size."""
    ready = (
        "import os, pathlib\n"
        "root = pathlib.Path(os.getcwd()).parent.parent\n"
        f"(root / 'ready').mkdir(exist_ok=True)\n(root / 'ready' / {version!r}).write_text('ok')\n"
        + ("import time\ntime.sleep(60)\n" if stays else "")
    )
    start = ready if starts else "raise SystemExit('cannot import gridpos')\n"
    files = {"start.py": start.encode(), "VERSION": version.encode()}
    if size:
        files["lib/blob.bin"] = random.Random(version).randbytes(size)
    return files


async def signed_on(folder, port):
    t = make_terminal(folder, port)
    await t.sign_on("100101", "123456")
    return t


async def heartbeat(t, version=RUNNING):
    request = m.HeartbeatRequest(
        terminal_id=t.terminal_id, trace=t.journal.take_trace(), version=version
    )
    return await t.session.request(request)


def updater_for(t, folder, public, ready_within_s=300.0):
    return Updater(UpdateStore(folder / "update"), t.session, t.journal, public, RUNNING,
                   ready_within_s)  # fmt: skip


def test_an_update_cut_at_random_bytes_and_restarted_completes(station, offered_dir, release,
                                                               tmp_path):  # fmt: skip
    private, public = release
    package = pack(program_files(NEW, starts=True, size=300_000))
    publish(offered_dir, NEW, package, private)
    proxy = Proxy(station.port)
    rng = random.Random(18)

    async def go():
        t = await signed_on(tmp_path, proxy.port)
        reply = await heartbeat(t)
        assert reply.version == NEW and reply.offer.size == len(package)
        updater = updater_for(t, tmp_path, public)
        assert updater.offered(reply).stage is Stage.DOWNLOADING
        rounds = 0
        while updater.state.stage is Stage.DOWNLOADING:
            rounds += 1
            assert rounds < 100, "the download does not progress"
            budget = rng.randint(10_000, 40_000)
            # a cut somewhere in this round's bytes, either way (about 5 % of them go up)
            if rng.random() < 0.5:
                proxy.arm(Plan(cut_up=rng.randint(1, budget // 20)))
            else:
                proxy.arm(Plan(cut_down=rng.randint(1, budget)))
            await updater.download(budget_bytes=budget)
            if rounds == 4:  # the terminal restarts mid-download: progress is on disk
                have = updater.store.received(NEW)
                await t.link.close()
                t.journal.close()
                t = await signed_on(tmp_path, proxy.port)
                updater = updater_for(t, tmp_path, public)
                assert updater.store.received(NEW) == have > 0
                updater.offered(await heartbeat(t))  # offered again: the same download goes on
                assert updater.state.stage is Stage.DOWNLOADING
        assert updater.state.stage is Stage.VERIFIED
        assert updater.install(transaction_open=False)
        await t.link.close()
        return updater, rounds

    updater, rounds = asyncio.run(go())
    proxy.stop()
    assert proxy.cuts >= 5, f"only {proxy.cuts} cuts in {rounds} rounds"
    store = updater.store
    assert store.current() == NEW and store.previous() == ""
    unpacked = store.root / "current"
    assert (unpacked / "lib" / "blob.bin").read_bytes() == program_files(NEW, True, 300_000)[
        "lib/blob.bin"
    ]
    stages = [s.stage for s in store.history()]
    assert stages[0] is Stage.DOWNLOADING and stages[-1] is Stage.TRIAL
    assert Stage.INSTALLING in stages


def test_a_package_not_signed_by_the_release_key_is_refused_before_any_byte(
    station, offered_dir, release, tmp_path
):
    _, public = release
    forger, _ = new_release_key()
    publish(offered_dir, NEW, pack(program_files(NEW, starts=True)), forger)

    async def go():
        t = await signed_on(tmp_path, station.port)
        updater = updater_for(t, tmp_path, public)
        state = updater.offered(await heartbeat(t))
        assert state.stage is Stage.REFUSED and state.reason == "bad_signature"
        assert not await handle_update_offer(updater, await heartbeat(t), lambda: False)
        assert updater.state.stage is Stage.REFUSED  # not taken again
        sent = t.link.bytes_received
        await updater.download()
        assert t.link.bytes_received == sent and updater.store.received(NEW) == 0
        await t.link.close()

    asyncio.run(go())


def test_bytes_changed_on_disk_after_the_download_are_not_installed(
    station, offered_dir, release, tmp_path
):
    private, public = release
    publish(offered_dir, NEW, pack(program_files(NEW, starts=True, size=5000)), private)

    async def go():
        t = await signed_on(tmp_path, station.port)
        updater = updater_for(t, tmp_path, public)
        assert await handle_update_offer(updater, await heartbeat(t), lambda: True) is False
        assert updater.state.stage is Stage.VERIFIED  # complete, but a transaction is open
        part = updater.store.part(NEW)
        data = bytearray(part.read_bytes())
        data[100] ^= 0xFF
        part.write_bytes(bytes(data))
        assert not updater.install(transaction_open=False)
        assert updater.state.stage is Stage.REFUSED and updater.store.current() == ""
        await t.link.close()

    asyncio.run(go())


def test_an_older_or_same_version_is_not_offered(station, offered_dir, release, tmp_path):
    private, _ = release
    publish(offered_dir, RUNNING, pack(program_files(RUNNING, starts=True)), private)

    async def go():
        t = await signed_on(tmp_path, station.port)
        reply = await heartbeat(t)
        assert reply.approved and reply.offer is None and reply.version is None
        await t.link.close()

    asyncio.run(go())


def put_downloaded(store, version, package, private):
    """``package`` where a finished download leaves it, and the journal saying so."""
    digest = hashlib.sha256(package).hexdigest()
    signature = sign(private, version, package).hex()
    store.record(UpdateState(Stage.VERIFIED, version, len(package), digest, signature))
    store.part(version).write_bytes(package)


def install_version(store_root, version, starts, release, ready_within_s, stays=True):
    """Install ``version`` as if downloaded."""
    private, public = release
    store = UpdateStore(store_root)
    put_downloaded(store, version, pack(program_files(version, starts, stays=stays)), private)
    updater = Updater(store, None, None, public, RUNNING, ready_within_s)  # type: ignore[arg-type]
    assert updater.install(transaction_open=False)
    return store


def test_a_version_that_does_not_start_is_rolled_back(release, tmp_path):
    root = tmp_path / "update"
    store = install_version(root, "1.1.0", True, release, ready_within_s=30)
    state, process = supervise(store, [sys.executable, "start.py"])
    assert state.stage is Stage.CONFIRMED and process is not None
    process.kill()
    process.wait()
    install_version(root, "1.2.0", False, release, ready_within_s=1.5)
    assert store.current() == "1.2.0" and store.previous() == "1.1.0"
    state, process = supervise(store, [sys.executable, "start.py"])
    assert state.stage is Stage.ROLLED_BACK and state.reason == "not_ready_in_time"
    assert process is None
    assert store.current() == "1.1.0"
    assert os.path.realpath(root / "current") == str(root / "versions" / "1.1.0")
    stages = [(s.version, s.stage) for s in store.history()]
    assert stages[-2:] == [("1.2.0", Stage.TRIAL), ("1.2.0", Stage.ROLLED_BACK)]
    install_version(root, "1.3.0", True, release, ready_within_s=30)
    state, process = supervise(store, [sys.executable, "start.py"])
    assert state.stage is Stage.CONFIRMED
    process.kill()
    process.wait()
    # confirmed: the failed 1.2.0 is removed, 1.1.0 kept to go back to
    assert sorted(p.name for p in (root / "versions").iterdir()) == ["1.1.0", "1.3.0"]


def test_a_trial_past_its_deadline_rolls_back_at_the_next_start(release, tmp_path):
    root = tmp_path / "update"
    store = install_version(root, "1.1.0", True, release, ready_within_s=60)
    store.record(store.state())  # a second identical line changes nothing
    later = datetime.now(UTC) + timedelta(minutes=5)
    state = Trial(store, clock=lambda: later).check()
    assert state.stage is Stage.ROLLED_BACK and store.current() == ""  # back to the installed one


def test_a_package_that_escapes_its_folder_is_not_installed(release, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../../evil")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    root = tmp_path / "update"
    private, public = release
    package = buffer.getvalue()
    store = UpdateStore(root)
    put_downloaded(store, "6.6.6", package, private)
    updater = Updater(store, None, None, public, RUNNING)  # type: ignore[arg-type]
    assert not updater.install(transaction_open=False)
    assert store.state().stage is Stage.ROLLED_BACK and not (tmp_path / "evil").exists()


def test_the_desk_notes_an_offer_from_its_heartbeat_and_a_signed_on_version_is_ready(
    station, offered_dir, release, tmp_path
):
    from terminal.shell.desk import Desk

    private, public = release
    publish(offered_dir, NEW, pack(program_files(NEW, starts=True)), private)

    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        desk.updater = updater_for(t, tmp_path, public)
        await desk.sign_on("100101", "123456")
        assert desk.updater.store.is_ready(RUNNING)
        checked = await desk.check_network()
        assert checked.ok
        state = desk.updater.state
        assert state.stage is Stage.DOWNLOADING and state.version == NEW
        assert desk.updater.store.received(NEW) == 0  # the operator's check downloads nothing
        await desk.close()
        await t.link.close()

    asyncio.run(go())


def test_the_service_launcher_rolls_back_a_version_that_cannot_start(release, tmp_path):
    root = tmp_path / "update"
    store = install_version(root, "1.1.0", True, release, ready_within_s=30, stays=False)
    assert Trial(store).check().stage is Stage.TRIAL
    (root / "ready").mkdir(exist_ok=True)
    (root / "ready" / "1.1.0").write_text("ok")
    assert Trial(store).check().stage is Stage.CONFIRMED
    install_version(root, "1.2.0", False, release, ready_within_s=1.5)
    site = tmp_path / "site.toml"
    site.write_text(f'[update]\ndir = "{root}"\n')
    boot = [sys.executable, "-m", "terminal.app.cli", "update", "boot", "--config", str(site)]
    done = subprocess.run(
        [*boot, "--", sys.executable, "start.py"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr  # the previous version started and ended well
    assert "1.2.0 rolled back: not_ready_in_time" in done.stderr
    assert store.current() == "1.1.0" and store.state().stage is Stage.ROLLED_BACK


@pytest.mark.parametrize("dialect", ["sim800", "m26"])
def test_a_download_through_the_gprs_module_with_four_chunks_in_flight(
    station, offered_dir, release, tmp_path, dialect
):
    from drivers.modem.modem import Modem, ModemTransport
    from sim.modem.emulator import LinkModel, ModemEmulator
    from terminal.shell.link import StationLink

    private, public = release
    package = pack(program_files(NEW, starts=True, size=30_000))
    publish(offered_dir, NEW, package, private)
    emulator = ModemEmulator(("127.0.0.1", station.port), dialect, LinkModel(rtt_s=0.02))

    async def go():
        modem = Modem(emulator.path, dialect)
        modem.start()
        link = StationLink(lambda: ModemTransport(modem, link_up_timeout=10), "127.0.0.1",
                           station.port, 10, 5)  # fmt: skip
        t = make_terminal(tmp_path, station.port, link=link)
        await t.sign_on("100101", "123456")
        updater = updater_for(t, tmp_path, public)
        updater.offered(await heartbeat(t))
        trips = link.round_trips
        assert not await updater.download(budget_bytes=5000)  # a heartbeat's worth: not all
        assert 5000 <= updater.store.received(NEW) < len(package)
        emulator.control("link drop-after 3000")  # cut in the middle of a window's answers
        assert await updater.download()
        assert link.round_trips - trips <= -(-len(package) // (4 * 960)) + 2
        await link.close()
        modem.stop()
        return updater

    try:
        updater = asyncio.run(go())
    finally:
        emulator.close()
    assert updater.state.stage is Stage.VERIFIED
    assert updater.store.sha256(NEW) == hashlib.sha256(package).hexdigest()
    opens = [c for c in emulator.commands if c.upper().startswith(("AT+CIPSTART", "AT+QIOPEN"))]
    assert len(opens) >= 2, "the link was not cut and opened again"


def test_a_failing_disk_stops_the_update_not_the_heartbeat(station, offered_dir, release, tmp_path):
    private, public = release
    publish(offered_dir, NEW, pack(program_files(NEW, starts=True, size=5000)), private)

    async def go():
        t = await signed_on(tmp_path, station.port)
        updater = updater_for(t, tmp_path, public)
        downloads = updater.store.root / "download"
        downloads.rmdir()
        downloads.write_text("not a folder")  # every write of a chunk fails
        assert not await handle_update_offer(updater, await heartbeat(t), lambda: False)
        assert updater.state.stage is Stage.DOWNLOADING and updater.state.version == NEW
        assert (await heartbeat(t)).approved  # the link and the session go on
        await t.link.close()

    asyncio.run(go())


def test_the_desk_installs_from_idle_heartbeats_only_when_no_transaction_is_open(
    station, offered_dir, release, tmp_path
):
    from terminal.shell.desk import Desk

    private, public = release
    publish(offered_dir, NEW, pack(program_files(NEW, starts=True, size=4000)), private)

    async def go():
        t = make_terminal(tmp_path, station.port)
        desk = Desk(t)
        desk.updater = updater_for(t, tmp_path, public)
        await desk.sign_on("100101", "123456")
        t.journal.append("T0000001/001/000999", "created", {})  # a transaction still open
        assert not await desk.heartbeat_answered(await heartbeat(t))
        assert desk.updater.state.stage is Stage.VERIFIED  # downloaded, waiting for a quiet time
        t.journal.append("T0000001/001/000999", "cancelled", {})  # never sent: closed
        assert await desk.heartbeat_answered(await heartbeat(t))  # installed: restart into it
        assert desk.updater.store.current() == NEW
        await desk.close()
        await t.link.close()

    asyncio.run(go())


def test_the_station_command_line_offers_the_versions_of_its_updates_folder(release, tmp_path):
    from tests.station_client import StationClient

    private, _ = release
    offered = tmp_path / "offered"
    publish(offered, NEW, pack(program_files(NEW, starts=True)), private)
    publish(offered, "0.10.0", pack(program_files("0.10.0", starts=True)), private)
    (offered / "0.11.0.pkg").write_bytes(b"unsigned: never offered")
    args = [sys.executable, "-m", "terminal.app.cli", "station", "--db", str(tmp_path / "s.db")]
    args += ["--seed-demo", "--port", "0", "--updates", str(offered)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        port = int(lines[1].rsplit(":", 1)[1])
        c = StationClient("127.0.0.1", port)
        assert c.sign_on(protocol=3).approved
        beat = m.HeartbeatRequest(terminal_id=c.terminal_id, trace=c.next_trace(), version=RUNNING)
        answer = c.request(beat)
        assert answer.version == "0.10.0" and answer.offer is not None  # 0.10 is after 0.2
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)
