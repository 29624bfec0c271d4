"""Which line belongs to which command: a pure matcher, tested without a port or a clock.

The reader turns bytes into lines; this module decides what each line is while one command is
in flight: its echo, a URC (never a value, wherever it falls), the line that carries the
command's value (only in the form the command answers with), its final, its error, or a stray
line — a late reply to a command that already gave up, or noise — which is dropped.

Late replies are the hard part: a module that answers ``CONNECT FAIL`` or ``SEND OK`` after the
driver gave up would otherwise end the next command. The command that gave up leaves its
distinct finals as *owed* (until the module's own bound for it has passed): the first such line
that comes is the dead command's and is dropped. A data command's finals count only after its
data went out, so a late ``SEND OK`` cannot end a send still waiting for its ``>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.modem.dialects import IP_LINE, Command


@dataclass
class Reply:
    """What the module answered to one command: its final and the lines of its value."""

    final: str
    lines: list[str]

    def value(self, prefix: str) -> str | None:
        for line in self.lines:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        return None

    def match(self, command: Command) -> tuple[str, ...] | None:
        """The groups of the first line in the command's answer form, or None."""
        if command.answer is None:
            return None
        for line in self.lines:
            found = command.answer.match(line)
            if found:
                return tuple(g or "" for g in found.groups())
        return None


def urc_kind(line: str, urcs: dict[str, str]) -> str | None:
    for prefix, kind in urcs.items():
        if line.startswith(prefix):
            return kind
    if line.startswith(("+CREG:", "+CGREG:")):
        return "registration"
    return None


@dataclass
class Owed:
    """Finals a command that gave up may still send, and until when (monotonic seconds)."""

    lines: tuple[str, ...]
    until: float


@dataclass
class Exchange:
    """One command in flight: feed it lines; it says when it is done and how."""

    command: Command
    urcs: dict[str, str]
    owed: list[Owed] = field(default_factory=list)
    data_sent: bool = False
    lines: list[str] = field(default_factory=list)
    reply: Reply | None = None
    error: str | None = None
    dropped: list[str] = field(default_factory=list)  # late replies and noise, for the log
    took_owed: bool = False  # a line was taken as an older command's: perhaps it was this one's

    @property
    def done(self) -> bool:
        return self.reply is not None or self.error is not None

    def feed(self, line: str, now: float = 0.0) -> str | None:
        """Take one line; return a URC kind when the line is a URC, else None."""
        command = self.command
        if line == command.text:
            return None  # echo
        if command.answer is not None and command.answer.match(line):
            if not self.done:
                self.lines.append(line)
            return None
        kind = urc_kind(line, self.urcs)
        if kind is not None:
            return kind
        if self.done:
            self.dropped.append(line)
            return None
        if self._owed(line, now):
            self.dropped.append(line)
            self.took_owed = True
            return None
        if command.ip_final and IP_LINE.match(line):
            self.reply = Reply(line, [*self.lines, line])
            return None
        waiting_for_data = command.data is not None and not self.data_sent
        for final in command.finals:
            if line.startswith(final):
                if waiting_for_data:  # a late final of an earlier send
                    self.dropped.append(line)
                    return None
                self.reply = Reply(line, self.lines)
                return None
        for error in command.errors:
            if line.startswith(error):
                self.error = f"{command.text}: {line}"
                return None
        self.dropped.append(line)  # not of this command's forms: a stray line
        return None

    def _owed(self, line: str, now: float) -> bool:
        """A line a command that gave up still owed: the older command's, so dropped."""
        for owed in list(self.owed):
            if owed.until < now:
                self.owed.remove(owed)
            elif any(line.startswith(final) for final in owed.lines):
                self.owed.remove(owed)
                return True
        return False
