"""The files of a software update, all under one directory (``[update] dir``):

    journal.jsonl          one line per update state (``terminal.core.update_state``), fsynced
    download/<v>.part      the bytes received so far: its length is where the download resumes
    versions/<v>/          each installed version, unpacked
    current -> versions/<v>   what the service starts
    previous -> versions/<v>  what a failed trial goes back to
    ready/<v>              written by a program of version <v> once it is up (``report_ready``)

The journal is append-only JSON lines: a line torn by a power cut is the last one and is
ignored, so the state read back is the last one written whole. Switching ``current`` is one
``rename`` of a fresh symlink over the old, so the service never finds it missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from terminal.core.update_state import UpdateState

JOURNAL = "journal.jsonl"


def report_ready(root: str | Path, version: str) -> None:
    """Say that this program, of ``version``, is up: the trial of an update ends well.

    Plain files only, so that every version, old or new, can write and read the mark.
    """
    ready = Path(root) / "ready"
    ready.mkdir(parents=True, exist_ok=True)
    (ready / version).write_text("ready\n")


class UpdateStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        for sub in ("download", "versions", "ready"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # --- the journal ---------------------------------------------------------------------------

    def history(self) -> list[UpdateState]:
        path = self.root / JOURNAL
        if not path.exists():
            return []
        states = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                states.append(UpdateState.from_json(json.loads(line)))
            except (ValueError, TypeError):
                continue  # a line torn by a power cut
        return states

    def state(self) -> UpdateState:
        history = self.history()
        return history[-1] if history else UpdateState()

    def record(self, state: UpdateState) -> None:
        """Append ``state`` and make it durable before anything it announces is done."""
        line = json.dumps(state.to_json(), sort_keys=True) + "\n"
        fd = os.open(self.root / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- the download ----------------------------------------------------------------------------

    def part(self, version: str) -> Path:
        return self.root / "download" / f"{version}.part"

    def received(self, version: str) -> int:
        path = self.part(version)
        return path.stat().st_size if path.exists() else 0

    def append(self, version: str, offset: int, data: bytes) -> None:
        """Add bytes at ``offset``, which must be where the file ends (chunks come in order)."""
        with self.part(version).open("ab") as part:
            if part.tell() != offset:
                raise ValueError(f"chunk at {offset}, file ends at {part.tell()}")
            part.write(data)
            part.flush()
            os.fsync(part.fileno())

    def sha256(self, version: str) -> str:
        digest = hashlib.sha256()
        with self.part(version).open("rb") as part:
            for block in iter(lambda: part.read(65536), b""):
                digest.update(block)
        return digest.hexdigest()

    def discard(self, version: str) -> None:
        self.part(version).unlink(missing_ok=True)

    # --- versions and the switch -----------------------------------------------------------------

    def _link(self, name: str) -> str:
        path = self.root / name
        return Path(os.readlink(path)).name if path.is_symlink() else ""

    def current(self) -> str:
        return self._link("current")

    def previous(self) -> str:
        return self._link("previous")

    def unpack(self, version: str) -> Path:
        """Unpack the downloaded package into versions/<version> (a tar.gz; members may not
        leave the folder, nor be devices or links out of it: tarfile's "data" filter)."""
        import tarfile

        target = self.root / "versions" / version
        fresh = target.with_name(version + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        with tarfile.open(self.part(version), "r:gz") as package:
            package.extractall(fresh, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        fresh.rename(target)
        return target

    def point(self, name: str, version: str) -> None:
        """Make the symlink ``name`` point at versions/<version>, in one rename."""
        link = self.root / name
        fresh = link.with_name(name + ".new")
        with contextlib.suppress(FileNotFoundError):
            fresh.unlink()
        fresh.symlink_to(Path("versions") / version)
        fresh.replace(link)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself survives a power cut
        finally:
            os.close(fd)

    def prune(self) -> list[str]:
        """Remove installed versions other than ``current`` and ``previous`` (flash is small)."""
        keep = {self.current(), self.previous()}
        removed = []
        for folder in (self.root / "versions").iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    def is_ready(self, version: str) -> bool:
        return (self.root / "ready" / version).exists()
