"""Load and validate the terminal's configuration.

The packaged ``default.toml`` is the single source of defaults: a site file is laid over it,
so the dataclasses below declare only types and allowed values. Every complaint names the
file and the dotted key, because the person reading it is an installer at a counter, not a
Python programmer: ``site.toml: modem.dialect: must be one of sim800, m26, not 'sim900'``.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).with_name("default.toml")
SUPERVISOR_HASH = r"(pbkdf2-sha256\$[0-9]{4,7}\$[0-9a-f]{32}\$[0-9a-f]{64})?"  # config.supervisor


class ConfigError(Exception):
    """A configuration file that cannot be used; the message is ready for the operator."""


def _rule(
    *,
    choices: tuple[Any, ...] = (),
    low: float | None = None,
    high: float | None = None,
    pattern: str | None = None,
) -> Any:
    return field(metadata={"choices": choices, "low": low, "high": high, "pattern": pattern})


@dataclass(frozen=True)
class TerminalConfig:
    """[terminal]: this terminal's identity and the utility named on receipts."""

    id: str = _rule(pattern=r"[A-Za-z0-9]{8}")
    agent_id: str = _rule(pattern=r"[A-Za-z0-9]{1,15}")
    operator: str = _rule(pattern=r"[0-9]{2}")
    utility_name: str = _rule(pattern=r".{1,20}")
    supervisor_password: str = _rule(pattern=SUPERVISOR_HASH)


@dataclass(frozen=True)
class StationConfig:
    """[station]: where the master station is and how to reach it (modem or socket)."""

    host: str = _rule(pattern=r"\S+")
    port: int = _rule(low=1, high=65535)
    transport: str = _rule(choices=("modem", "socket"))
    sms_number: str = _rule(pattern=r"(\+?[0-9]{3,20})?")


@dataclass(frozen=True)
class ModemConfig:
    """[modem]: the GPRS module's port, dialect, how it hands over received data, and APN."""

    port: str = _rule(pattern=r"\S+")
    baudrate: int = _rule(choices=(9600, 19200, 38400, 57600, 115200, 230400, 460800))
    dialect: str = _rule(choices=("sim800", "m26"))
    receive: str = _rule(choices=("push", "manual"))
    apn: str = _rule(pattern=r"[\x21-\x7e]{0,62}")
    apn_user: str = _rule(pattern=r"[\x20-\x7e]{0,32}")
    apn_password: str = _rule(pattern=r"[\x20-\x7e]{0,32}")
    power_cycle: str = _rule(pattern=r"[\x20-\x7e]{0,200}")


@dataclass(frozen=True)
class PrinterConfig:
    """[printer]: how the thermal printer is connected and its paper width."""

    connection: str = _rule(choices=("serial", "usb", "file"))
    device: str = _rule(pattern=r"\S+")
    baudrate: int = _rule(choices=(9600, 19200, 38400, 57600, 115200))
    paper_width_mm: int = _rule(choices=(58, 80))
    qr: str = _rule(choices=("native", "image", "off"))


@dataclass(frozen=True)
class CardConfig:
    """[card]: which PC/SC reader to use."""

    reader: str = _rule(pattern=r".{0,80}")


@dataclass(frozen=True)
class KeypadConfig:
    """[keypad]: the evdev device, its key map and repeat timing."""

    device: str = _rule(pattern=r"\S*")
    grab: bool = _rule()
    repeat_delay_s: float = _rule(low=0.1, high=5)
    repeat_interval_s: float = _rule(low=0.02, high=2)
    remap: str = _rule(pattern=r"(\s*KEY_[A-Z0-9_]+=[A-Z0-9_]+)*\s*")


@dataclass(frozen=True)
class DisplayConfig:
    """[display]: where screens go and their size and font."""

    kind: str = _rule(choices=("console", "framebuffer", "png", "text"))
    framebuffer: str = _rule(pattern=r"\S+")
    width: int = _rule(low=64, high=4096)
    height: int = _rule(low=64, high=4096)
    font: str = _rule(pattern=r"\S+")
    png_dir: str = _rule(pattern=r"\S+")


@dataclass(frozen=True)
class UiConfig:
    """[ui]: language, idle timeout and login attempts."""

    locale: str = _rule(choices=("zh_CN", "en"))
    idle_timeout_s: int = _rule(low=10, high=3600)
    login_attempts: int = _rule(low=1, high=20)


@dataclass(frozen=True)
class JournalConfig:
    """[journal]: the signed journal's database and key files, its backups, the space it needs."""

    path: str = _rule(pattern=r"\S+")
    key_file: str = _rule(pattern=r"\S+")
    backup_dir: str = _rule(pattern=r"\S+")
    backup_keep: int = _rule(low=1, high=365)
    min_free_mb: int = _rule(low=1, high=100_000)


@dataclass(frozen=True)
class KeysConfig:
    """[keys]: where the terminal master key and the card access key are kept."""

    master_key_file: str = _rule(pattern=r"\S+")
    card_access_key_file: str = _rule(pattern=r"\S+")


@dataclass(frozen=True)
class TimeoutsConfig:
    """[timeouts]: how long to wait for the link and the station, and how often to repeat."""

    link_up_s: int = _rule(low=5, high=600)
    connect_s: int = _rule(low=1, high=300)
    response_s: int = _rule(low=1, high=300)
    repeats: int = _rule(low=0, high=10)
    heartbeat_s: int = _rule(low=10, high=86400)
    retry_first_s: int = _rule(low=1, high=3600)
    retry_max_s: int = _rule(low=1, high=86400)


@dataclass(frozen=True)
class LimitsConfig:
    """[limits]: the amounts the menu accepts before the station is asked."""

    max_payment_fen: int = _rule(low=1, high=100_000_000)
    min_purchase_fen: int = _rule(low=1, high=100_000_000)
    max_purchase_fen: int = _rule(low=1, high=100_000_000)
    round_up_fen: int = _rule(choices=(100, 500, 1000, 5000, 10000))


@dataclass(frozen=True)
class UpdateConfig:
    """[update]: where downloads and installed versions live, and how long a new one may take."""

    dir: str = _rule(pattern=r"\S+")
    ready_within_s: int = _rule(low=30, high=3600)
    budget_bytes: int = _rule(low=0, high=1_000_000)


@dataclass(frozen=True)
class Config:
    """The whole configuration: the defaults with the site file over them."""

    terminal: TerminalConfig
    station: StationConfig
    modem: ModemConfig
    printer: PrinterConfig
    card: CardConfig
    keypad: KeypadConfig
    display: DisplayConfig
    ui: UiConfig
    journal: JournalConfig
    keys: KeysConfig
    timeouts: TimeoutsConfig
    limits: LimitsConfig
    update: UpdateConfig
    source: str = "default.toml"


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Return the configuration: defaults, then the site file at ``path``, then ``overrides``.

    ``overrides`` maps dotted keys to values (``{"station.port": 9000}``) for programs such as
    the demo that start the terminal against emulators; they are checked like file values.
    """
    data = _read(DEFAULT_PATH)
    source = DEFAULT_PATH.name
    origins: dict[str, str] = {}  # dotted key -> where its value came from, for messages
    if path is not None:
        source = str(path)
        _overlay(data, _read(Path(path)), source, "", origins)
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        _overlay(data, {section: {key: value}}, "override", "", origins)
    config = _build(Config, data, source, "", origins)
    _check_relations(config, source)
    return dataclasses.replace(config, source=source)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _overlay(
    base: dict[str, Any], top: dict[str, Any], source: str, prefix: str, origins: dict[str, str]
) -> None:
    for key, value in top.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"{source}: {dotted}: unknown key")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {dotted}: must be a table [{dotted}]")
            _overlay(base[key], value, source, f"{dotted}.", origins)
        else:
            base[key] = value
            origins[dotted] = source


_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def _build(
    cls: type, data: dict[str, Any], source: str, prefix: str, origins: dict[str, str]
) -> Any:
    values: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    for name, fld in hints.items():
        dotted = f"{prefix}{name}"
        if name not in data:
            raise ConfigError(f"{source}: {dotted}: missing")
        value = data[name]
        kind = _resolve(fld.type)
        if dataclasses.is_dataclass(kind):
            values[name] = _build(kind, value, source, f"{dotted}.", origins)
        else:
            where = f"{origins.get(dotted, source)}: {dotted}"
            values[name] = _check_value(kind, fld.metadata, value, where)
    return cls(**values)


def _resolve(annotation: Any) -> Any:
    if isinstance(annotation, str):
        return {"str": str, "int": int, "float": float, "bool": bool}.get(annotation) or globals()[
            annotation
        ]
    return annotation


def _check_value(kind: type, rule: Any, value: Any, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise ConfigError(f"{where}: must be {_TYPE_NAMES[kind]}, not {value!r}")
    choices = rule.get("choices") or ()
    if choices and value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ConfigError(f"{where}: must be one of {allowed}, not {value!r}")
    low, high = rule.get("low"), rule.get("high")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{where}: must be between {low} and {high}, not {value!r}")
    pattern = rule.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ConfigError(f"{where}: {value!r} does not have the expected form ({pattern})")
    return value


def _check_relations(config: Config, source: str) -> None:
    limits, timeouts = config.limits, config.timeouts
    if limits.min_purchase_fen > limits.max_purchase_fen:
        raise ConfigError(f"{source}: limits.min_purchase_fen: larger than limits.max_purchase_fen")
    if timeouts.retry_first_s > timeouts.retry_max_s:
        raise ConfigError(f"{source}: timeouts.retry_first_s: larger than timeouts.retry_max_s")
