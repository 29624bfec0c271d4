"""The emulators' command lines, as the demo and a person at a console use them."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading

import serial

from sim.card.card import CardImage
from sim.serving import STDIN_CLOSED


def gridpos(*args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "terminal.app.cli", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def test_sim_printer_prints_its_path_and_takes_commands(tmp_path):
    proc = gridpos("sim", "printer", "--out", str(tmp_path))
    first = proc.stdout.readline()
    assert first.startswith("printer on /dev/pts/")
    out, _ = proc.communicate("paper out\nbogus\nquit\n", timeout=20)
    assert "ok paper out" in out and "unknown command: bogus" in out
    assert proc.returncode == 0


def test_sim_card_makes_demo_images(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", "sim", "card", "--make-demo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    names = sorted(line.rsplit("/", 1)[1] for line in done.stdout.split())
    assert names == ["blank.json", "blank2.json", "corrupt.json", "user-0100000005.json"]
    assert CardImage.load(tmp_path / "user-0100000005.json").serial.hex() == "5a00000100000005"


def test_sim_card_plays_into_vpcd_and_diag_card_explains_it(pcscd, tmp_path):
    subprocess.run(
        [sys.executable, "-m", "terminal.app.cli", "sim", "card", "--make-demo", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    proc = gridpos("sim", "card", "--image", str(tmp_path / "user-0100000005.json"))
    try:
        assert proc.stdout.readline().startswith("card 5a00000100000005 in vpcd")
        from drivers.card.reader import CardReader
        from tests.card_kit import READER

        assert CardReader(READER).wait_present(5)
        diag = subprocess.run(
            [sys.executable, "-m", "terminal.app.cli", "diag", "card", "--reader", READER],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert diag.returncode == 0, diag.stderr
        assert "户号：0100000005" in diag.stdout and "购电已全部输入电表" in diag.stdout
    finally:
        proc.communicate("quit\n", timeout=20)
    assert proc.returncode == 0


# --- run without standard input: nohup, a service manager, </dev/null ------------------------


def detached(*args):
    """``gridpos ARGS`` with standard input /dev/null, and a queue of its output lines."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "terminal.app.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def stop(proc) -> int:
    """SIGTERM, as a service manager stops it; its exit code."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(20)


def test_sim_modem_keeps_answering_after_its_stdin_closes():
    proc, lines = detached("sim", "modem", "--target", "127.0.0.1:9")
    try:
        first = lines.get(timeout=20)
        assert first.startswith("modem on /dev/pts/"), first
        assert lines.get(timeout=20) == STDIN_CLOSED  # it has read its stdin to the end
        with serial.Serial(first.split()[-1], 115200, timeout=10) as port:
            port.write(b"AT\r")
            answer = port.read_until(b"OK\r\n")
        assert answer.endswith(b"OK\r\n"), answer
        assert proc.poll() is None
    finally:
        code = stop(proc)
    assert code == 0, proc.stderr.read()


def test_sim_card_stays_in_the_reader_after_its_stdin_closes(pcscd, tmp_path):
    from drivers.card.reader import CardReader
    from sim.card.cli import make_demo_images
    from tests.card_kit import READER

    image = next(p for p in make_demo_images(tmp_path) if p.name.startswith("user-"))
    proc, lines = detached("sim", "card", "--image", str(image))
    try:
        assert lines.get(timeout=20).startswith("card 5a00000100000005 in vpcd")
        assert lines.get(timeout=20) == STDIN_CLOSED
        assert CardReader(READER).wait_present(5)
        assert proc.poll() is None
    finally:
        code = stop(proc)
    assert code == 0, proc.stderr.read()
    assert CardReader(READER).wait_absent(5)  # SIGTERM took the card out on the way
