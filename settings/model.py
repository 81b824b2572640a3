"""The config model: one section per part of the kiosk.

Every field has a default, so an empty file is a working demo kiosk. ``resources/kiosk.toml``
spells the same defaults out with comments for staff; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationInfo, field_validator, model_validator

from settings.base import Section

DepthFilter = Literal["decimation", "spatial", "temporal", "hole_filling"]
Metres = Annotated[float, Field(gt=0.0, le=20.0)]


def _default_filters() -> list[DepthFilter]:
    # Decimation first: spatial and temporal then work on a quarter of the pixels (the
    # presence grid samples every few pixels anyway), which keeps a 30 fps stream well
    # inside 15 % of one core.
    return ["decimation", "spatial", "temporal"]


class KioskSection(Section):
    """Who the kiosk is and how it shows the experience to shoppers."""

    store_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = (
        "demo-store"
    )
    kiosk_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] = (
        "kiosk-01"
    )
    #: A .drawio / .drawio.svg / .drawio.png file or a built bundle directory. Relative paths
    #: are taken from the folder of the config file that names them; ``builtin:NAME`` names a
    #: file shipped with the kiosk (settings.resources), the same from any folder.
    experience: Path = Path("builtin:demo/pet-store.drawio")
    screen: Annotated[int, Field(ge=0)] = 0
    fullscreen: bool = True
    hide_cursor: bool = True
    transition: Literal["fade", "slide", "off"] = "fade"
    transition_ms: Annotated[int, Field(ge=0, le=250)] = 200
    swipe: bool = True
    attract_rotate_s: Annotated[float, Field(gt=0.5, le=3600)] = 8.0
    idle_timeout_s: Annotated[float, Field(ge=5, le=3600)] = 45.0
    presence_grace_s: Annotated[float, Field(ge=0, le=600)] = 8.0
    goodbye_s: Annotated[float, Field(ge=0, le=60)] = 3.0
    #: "Still there?": the last seconds of an idle session (nobody touched, nobody seen)
    #: show a prompt counting down; a tap keeps the session. 0: no prompt. At most half of
    #: ``idle_timeout_s`` (checked at load; the session machine caps it the same way).
    still_there_s: Annotated[float, Field(ge=0, le=120)] = 10.0
    watch: bool = False


class PathsSection(Section):
    """Where the kiosk keeps its data and logs (empty = the user's data directory)."""

    data_dir: Path | None = None
    log_dir: Path | None = None


class LoggingSection(Section):
    """Log level and the rotating log file."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: bool = True
    max_bytes: Annotated[int, Field(ge=10_000)] = 5_000_000
    backups: Annotated[int, Field(ge=0, le=100)] = 5


class StorageSection(Section):
    """The durable interaction log (SQLite) and its uplink outbox."""

    database: Path | None = None
    flush_interval_ms: Annotated[int, Field(ge=1, le=10_000)] = 50
    flush_max_events: Annotated[int, Field(ge=1, le=100_000)] = 500
    durability: Literal["normal", "strict"] = "normal"
    queue_max: Annotated[int, Field(ge=100, le=10_000_000)] = 100_000
    memory_bound: Annotated[int, Field(ge=1000, le=10_000_000)] = 200_000
    payload_max_bytes: Annotated[int, Field(ge=256, le=65_536)] = 4096
    batch_max_events: Annotated[int, Field(ge=1, le=10_000)] = 500
    batch_max_bytes: Annotated[int, Field(ge=1024, le=131_072)] = 65_536
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    #: The database and its WAL together (2 GB: about 2.8 million events, well within a small
    #: kiosk PC's disk). Over budget, uplinked events go first, then the oldest *unsent*
    #: ones, loudly. 0 = no budget (the file grows while the uplink is off or offline).
    disk_budget_mb: Annotated[int, Field(ge=0)] = 2048
    #: Room taken on disk at start (``<database>.spill``) for the events held while the
    #: database cannot be written, so a kill does not lose them (8 MB: ~17,000 touch events).
    #: 0 = no spill file (held events are in memory only).
    spill_mb: Annotated[int, Field(ge=0, le=1024)] = 8


class RedisSection(Section):
    """The hot path: live counters and the recent-events stream."""

    enabled: bool = True
    url: str = "redis://127.0.0.1:6379/0"
    password: SecretStr | None = None
    password_file: Path | None = None
    tls: bool = False
    ca_file: Path | None = None
    key_prefix: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")] = "kiosk"
    stream_maxlen: Annotated[int, Field(ge=100, le=10_000_000)] = 10_000
    connect_timeout_s: Annotated[float, Field(gt=0, le=30)] = 0.5


class ZonesSection(Section):
    """Distances (metres) of the nearest person that make each presence zone."""

    passing_m: Metres = 3.5
    approaching_m: Metres = 2.0
    engaged_m: Metres = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> ZonesSection:
        if not self.engaged_m < self.approaching_m < self.passing_m:
            raise ValueError(
                "zones must satisfy engaged_m < approaching_m < passing_m "
                f"(got {self.engaged_m}, {self.approaching_m}, {self.passing_m})"
            )
        return self


class SensorsSection(Section):
    """Presence detection: which backend, and how it sees shoppers."""

    type: Literal["auto", "realsense", "webcam", "simulated", "none"] = "auto"
    #: "" for a live camera, or "file:PATH" to play a .db3/.bag recording.
    source: str = ""
    serial: str = ""
    depth_width: Annotated[int, Field(ge=64, le=1920)] = 848
    depth_height: Annotated[int, Field(ge=48, le=1080)] = 480
    fps: Annotated[int, Field(ge=1, le=90)] = 30
    color: bool = False
    filters: list[DepthFilter] = Field(default_factory=_default_filters)
    #: Region of interest as fractions of the frame: [left, top, right, bottom].
    roi: Annotated[
        list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=4, max_length=4)
    ] = Field(default_factory=lambda: [0.1, 0.1, 0.9, 0.95])
    margin_m: Annotated[float, Field(gt=0, le=2.0)] = 0.15
    on_share: Annotated[float, Field(gt=0, lt=1)] = 0.04
    off_share: Annotated[float, Field(gt=0, lt=1)] = 0.02
    on_dwell_ms: Annotated[int, Field(ge=0, le=10_000)] = 100
    off_dwell_ms: Annotated[int, Field(ge=0, le=60_000)] = 1500
    heartbeat_s: Annotated[float, Field(gt=0, le=600)] = 5.0
    relearn_s: Annotated[float, Field(gt=0)] = 600.0
    zones: ZonesSection = Field(default_factory=ZonesSection)
    hog: bool = False
    faces: bool = False
    webcam_index: Annotated[int, Field(ge=0)] = 0
    sim_arrivals_per_min: Annotated[float, Field(gt=0, le=600)] = 2.0
    sim_seed: int = 7
    #: Simulated shoppers come only from ``python -m simulation`` (none arrive on their own).
    sim_driven: bool = False

    @model_validator(mode="after")
    def _check(self) -> SensorsSection:
        left, top, right, bottom = self.roi
        if not (left < right and top < bottom):
            raise ValueError(
                "roi must be [left, top, right, bottom] with left < right, top < bottom"
            )
        if self.off_share >= self.on_share:
            raise ValueError("off_share must be below on_share (that gap is the hysteresis)")
        if self.source and not self.source.startswith("file:"):
            raise ValueError('source must be "" (live camera) or "file:PATH"')
        return self


#: AWS IoT Core's limits on what a connection may name (its rate limits are the bounds of
#: max_publishes_per_s and max_bytes_per_s).
AWS_TOPIC_MAX_BYTES = 256
AWS_TOPIC_MAX_SLASHES = 7
AWS_CLIENT_ID_MAX_BYTES = 128


class UplinkSection(Section):
    """Batches to AWS IoT Core or any MQTT broker."""

    enabled: bool = False
    transport: Literal["mqtt", "aws-iot"] = "mqtt"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65_535)] = 1883
    client_id: str = ""
    mqtt_version: Literal["3.1.1", "5"] = "3.1.1"
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    topic_prefix: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_/-]+$")] = "retail"
    max_message_bytes: Annotated[int, Field(ge=1024, le=131_072)] = 32_768
    inflight: Annotated[int, Field(ge=1, le=100)] = 20
    max_publishes_per_s: Annotated[float, Field(gt=0, le=100)] = 80.0
    max_bytes_per_s: Annotated[int, Field(ge=1024, le=524_288)] = 400_000
    backoff_min_s: Annotated[float, Field(gt=0, le=60)] = 1.0
    backoff_max_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    keepalive_s: Annotated[int, Field(ge=5, le=1200)] = 60
    status_interval_s: Annotated[float, Field(ge=1, le=3600)] = 60.0
    #: awsiotsdk sends SDK metrics in the username; off for brokers that are not AWS IoT Core.
    aws_metrics: bool = False

    def topics(self, store_id: str, kiosk_id: str) -> tuple[str, str]:
        """The kiosk's events and status topics."""
        base = f"{self.topic_prefix}/{store_id}/{kiosk_id}"
        return f"{base}/events", f"{base}/status"

    def effective_client_id(self, store_id: str, kiosk_id: str) -> str:
        """``client_id``, or ``<store_id>-<kiosk_id>`` when it is empty."""
        return self.client_id or f"{store_id}-{kiosk_id}"

    def aws_problems(self, store_id: str, kiosk_id: str) -> list[str]:
        """What breaks AWS IoT Core's limits for this kiosk (topics, client id, a message
        larger than a second's byte allowance); one line each, naming the key."""
        problems = []
        # the status topic is as long as the events topic and has as many slashes
        events, _status = self.topics(store_id, kiosk_id)
        size = len(events.encode("utf-8"))
        if size > AWS_TOPIC_MAX_BYTES:
            problems.append(
                f"topic_prefix: the topic {events!r:.60}... is {size} bytes; AWS IoT Core "
                f"allows {AWS_TOPIC_MAX_BYTES}"
            )
        if events.count("/") > AWS_TOPIC_MAX_SLASHES:
            problems.append(
                f"topic_prefix: the topic {events!r} has {events.count('/')} slashes; AWS IoT "
                f"Core allows {AWS_TOPIC_MAX_SLASHES}"
            )
        client_id = self.effective_client_id(store_id, kiosk_id)
        size = len(client_id.encode("utf-8"))
        if size > AWS_CLIENT_ID_MAX_BYTES:
            named = "client_id" if self.client_id else "client_id (empty: <store_id>-<kiosk_id>)"
            problems.append(
                f"{named} {client_id!r:.40}... is {size} bytes; AWS IoT Core allows "
                f"{AWS_CLIENT_ID_MAX_BYTES}"
            )
        packet = self.max_message_bytes + len(events.encode("utf-8")) + 9
        if packet > self.max_bytes_per_s:
            problems.append(
                f"max_message_bytes = {self.max_message_bytes}: a full message on {events!r} "
                f"is {packet} bytes, above max_bytes_per_s = {self.max_bytes_per_s}"
            )
        return problems


#: The placeholders a ``[take_home] url_template`` may use.
TAKE_HOME_FIELDS = ("skus", "store_id", "kiosk_id")


class TakeHomeSection(Section):
    """The shopper's list to take home: the link its QR code carries."""

    #: The link a phone opens: ``{skus}`` is the list's SKUs, comma-separated (URL-quoted);
    #: ``{store_id}`` and ``{kiosk_id}`` come from ``[kiosk]``.
    url_template: Annotated[str, Field(min_length=1, max_length=512)] = (
        "https://shop.example/list?store={store_id}&skus={skus}"
    )
    #: At most this many items on the list (the QR code stays easy to scan).
    max_items: Annotated[int, Field(ge=1, le=100)] = 30
    #: An ESC/POS receipt printer's device file (e.g. ``/dev/usb/lp0``): the list screen
    #: offers a printed slip. None: no printer.
    printer: Path | None = None
    #: The printer's model as python-escpos names it (the paper's width for the QR code).
    printer_profile: Annotated[str, Field(min_length=1, max_length=64)] = "TM-T20II"

    @field_validator("url_template")
    @classmethod
    def _known_placeholders(cls, template: str) -> str:
        try:
            filled = template.format(**dict.fromkeys(TAKE_HOME_FIELDS, "x"))
        except (KeyError, IndexError, AttributeError, ValueError) as exc:
            raise ValueError(
                f"url_template {template!r}: {exc!s} is not a placeholder it may use "
                f"(use {', '.join('{' + f + '}' for f in TAKE_HOME_FIELDS)})"
            ) from None
        if "{skus}" not in template:
            raise ValueError(f"url_template {template!r} must contain {{skus}}")
        if not filled.startswith(("https://", "http://")):
            raise ValueError(f"url_template {template!r} must start with https:// or http://")
        return template


#: A language code as draw.io's ``label_XX`` keys use it (lower case): ``fr``, ``pt-br``.
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}([-_][a-z0-9]{2,8})?$")]
#: The texts the kiosk draws itself (the "Still there?" prompt, the list to take home) that
#: ``[languages.texts.XX]`` may give in language XX; English is used for any not given.
BuiltInText = Literal[
    "still_there",
    "still_there_hint",
    "keep_going",
    "my_list",
    "scan",
    "empty",
    "empty_hint",
    "close",
    "print",
    "printing",
    "printed",
    "not_printed",
    "reach",
]


class LanguagesSection(Section):
    """The shopper's language: the one every session starts in, and the kiosk's own texts
    in the languages a picker (``kiosk-action=set-language``) may choose."""

    #: Each session starts in this language (labels as drawn when it has no ``label_XX``).
    default: LanguageCode = "en"
    #: The kiosk's own texts per language: ``[languages.texts.fr] still_there = "..."``.
    texts: dict[LanguageCode, dict[BuiltInText, Annotated[str, Field(max_length=200)]]] = Field(
        default_factory=dict
    )


class ReachSection(Section):
    """Reach mode (wheelchair users, children): the page moves into the part of the screen
    below ``height_m`` from the floor, scaled to fit. A shape with ``kiosk-action=reach``
    turns it on and off; ``button`` adds the kiosk's own button for it."""

    #: The kiosk's own reach button in the screen's lower left corner.
    button: bool = False
    #: Every touch target is below this height from the floor in reach mode.
    height_m: Annotated[float, Field(gt=0.0, le=3.0)] = 1.2
    #: How high the screen's picture starts: its lower edge above the floor.
    screen_bottom_m: Annotated[float, Field(ge=0.0, le=3.0)] = 0.8
    #: The screen's picture's height as mounted (a 43" 16:9 screen in landscape: 0.54).
    screen_height_m: Annotated[float, Field(gt=0.05, le=5.0)] = 0.6

    @model_validator(mode="after")
    def _some_of_the_screen_in_reach(self) -> ReachSection:
        if self.height_m - self.screen_bottom_m < 0.1 * self.screen_height_m:
            raise ValueError(
                f"reach.height_m = {self.height_m} leaves less than a tenth of the screen in "
                f"reach (its picture starts at screen_bottom_m = {self.screen_bottom_m} and "
                f"is screen_height_m = {self.screen_height_m} high)"
            )
        return self

    def share_in_reach(self) -> float:
        """The part of the screen's height (0.1 .. 1, from the bottom) below ``height_m``."""
        return min(1.0, (self.height_m - self.screen_bottom_m) / self.screen_height_m)


class AdminSection(Section):
    """The hidden staff panel: how it opens and who gets in."""

    gesture_corner: Literal["top-right", "top-left", "bottom-right", "bottom-left"] = "top-right"
    gesture_taps: Annotated[int, Field(ge=3, le=12)] = 5
    gesture_window_s: Annotated[float, Field(gt=0.5, le=10)] = 3.0
    gesture_area_px: Annotated[int, Field(ge=40, le=400)] = 80
    staff_pin_hash: SecretStr | None = None
    staff_pin_hash_file: Path | None = None
    manager_pin_hash: SecretStr | None = None
    manager_pin_hash_file: Path | None = None
    lockout_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    lockout_s: Annotated[float, Field(ge=1, le=3600)] = 300.0
    #: Each lockout in a row lasts twice the one before, up to this (a right PIN resets it).
    lockout_max_s: Annotated[float, Field(ge=1, le=604800)] = 86400.0
    idle_close_s: Annotated[float, Field(ge=10, le=3600)] = 120.0


#: An opening-hours window, local time: "08:00-20:00"; an end at or before the start crosses
#: midnight ("22:00-02:00" runs into the next day); "00:00-24:00" is the whole day.
HoursWindow = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")
]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
ALL_DAY: list[str] = ["00:00-24:00"]


class DaypartSection(Section):
    """What the kiosk shows in one time window (breakfast offers in the morning, say)."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    window: HoursWindow
    #: Another experience for the window (a path relative to the config file, or builtin:...).
    experience: Path | None = None
    #: Attract pages (ids or names) to rotate in the window instead of all attract pages.
    attract_pages: list[str] = Field(default_factory=list)
    #: When windows overlap, the highest priority wins (then the first listed).
    priority: int = 0


class ScheduleSection(Section):
    """Opening hours, holidays and dayparting. Outside the hours the screen is off, the camera
    and the Redis mirror idle and the uplink drains; at opening the kiosk wakes on attract."""

    enabled: bool = False
    #: An IANA time zone ("Europe/Paris"); empty: the system's local time.
    timezone: str = ""
    monday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    tuesday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    wednesday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    thursday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    friday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    saturday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    sunday: list[HoursWindow] = Field(default_factory=lambda: list(ALL_DAY))
    #: Dates ("2026-12-25") with their own hours: [] closed all day.
    exceptions: dict[str, list[HoursWindow]] = Field(default_factory=dict)
    dayparts: list[DaypartSection] = Field(default_factory=list)
    #: How often the kiosk looks at the clock (a clock jump is seen at the next look).
    check_s: Annotated[float, Field(ge=1, le=300)] = 15.0

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value:
            import zoneinfo

            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (e.g. 'Europe/Paris')") from None
        return value

    @field_validator("exceptions")
    @classmethod
    def _iso_dates(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        import datetime as dt

        for day in value:
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise ValueError(f"exception {day!r} is not a date like 2026-12-25") from None
        return value

    def hours_for(self, weekday: int) -> list[str]:
        """The windows of a weekday (0 = Monday)."""
        hours: list[str] = getattr(self, WEEKDAYS[weekday])
        return hours


@dataclass(frozen=True)
class ResolvedPath:
    """One path of a loaded config: how it was written, where it resolved and how."""

    section: str
    key: str
    #: The value as written (or its default); None for a default computed at load.
    written: str | None
    path: Path
    #: "relative to /etc/kiosk", "shipped with the kiosk", "default: <data_dir>/logs", ...
    how: str
    #: The kiosk makes it when it is missing (data and log folders, the database).
    made_at_start: bool

    def state(self) -> str:
        """The path's state looked up now: exists, missing (made at start) or MISSING."""
        if self.path.exists():
            return "exists"
        return "missing (made at start)" if self.made_at_start else "MISSING"


class FleetSection(Section):
    """Content deployed by the fleet (docs/fleet.md, "Signed bundles")."""

    #: The retailer's Ed25519 public keys, each the base64 of its 32 bytes as
    #: ``kiosk-import keygen`` prints it: a bundle is deployed only when its signature
    #: verifies with one of them ([] = none is). Set on the kiosk only, never by the fleet.
    bundle_keys: list[str] = Field(default_factory=list)
    #: Report the kiosk's health and take the fleet's config through its AWS IoT Device
    #: Shadow (docs/fleet.md, "Shadow"); uses [uplink]'s broker and certificate (mTLS).
    shadow: bool = False
    #: Run the fleet's IoT Jobs (deploy a signed bundle, restart, screenshot, log level,
    #: logs; docs/fleet.md, "Jobs"); uses [uplink]'s broker and certificate (mTLS).
    jobs: bool = False
    #: The authority (PEM) of a private HTTPS server bundles are downloaded from and
    #: screenshots and logs are uploaded to; None: the system's authorities (AWS S3).
    https_ca_file: Path | None = None

    @field_validator("bundle_keys")
    @classmethod
    def _ed25519_public_keys(cls, keys: list[str]) -> list[str]:
        import base64
        import binascii

        for index, key in enumerate(keys):
            try:
                raw = base64.b64decode(key, validate=True)
            except binascii.Error:
                raw = b""
            if len(raw) != 32:
                raise ValueError(
                    f"key {index + 1} is not an Ed25519 public key "
                    "(the base64 of 32 bytes that kiosk-import keygen prints)"
                )
        return keys


class KioskConfig(Section):
    """The whole configuration, one field per TOML section."""

    kiosk: KioskSection = Field(default_factory=KioskSection)
    paths: PathsSection = Field(default_factory=PathsSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    redis: RedisSection = Field(default_factory=RedisSection)
    sensors: SensorsSection = Field(default_factory=SensorsSection)
    # validated when absent too (from an empty table), so the AWS limits below hold for
    # every config, and an error names no default object
    uplink: UplinkSection = Field(default_factory=dict, validate_default=True)
    admin: AdminSection = Field(default_factory=AdminSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    take_home: TakeHomeSection = Field(default_factory=TakeHomeSection)
    languages: LanguagesSection = Field(default_factory=LanguagesSection)
    reach: ReachSection = Field(default_factory=ReachSection)
    fleet: FleetSection = Field(default_factory=FleetSection)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("uplink")
    @classmethod
    def _within_aws_limits(cls, uplink: UplinkSection, info: ValidationInfo) -> UplinkSection:
        kiosk = info.data.get("kiosk")
        if isinstance(kiosk, KioskSection):
            problems = uplink.aws_problems(kiosk.store_id, kiosk.kiosk_id)
            if problems:
                raise ValueError("; ".join(problems))
        return uplink

    @model_validator(mode="after")
    def _prompt_inside_idle(self) -> KioskConfig:
        kiosk = self.kiosk
        if kiosk.still_there_s > kiosk.idle_timeout_s / 2:
            raise ValueError(
                f"kiosk.still_there_s = {kiosk.still_there_s} must be at most half of "
                f"kiosk.idle_timeout_s = {kiosk.idle_timeout_s} (the prompt shows in the "
                "last seconds of the idle time)"
            )
        return self

    _resolved_paths: list[ResolvedPath] = PrivateAttr(default_factory=list)

    @property
    def source(self) -> Path | None:
        """The file this config was read from (None when built in code)."""
        return self._source

    @property
    def resolved_paths(self) -> list[ResolvedPath]:
        """Each path field as written and where load_config resolved it (empty when built in
        code); ``kiosk --print-config`` shows them."""
        return self._resolved_paths

    def data_path(self, name: str) -> Path:
        """A file under the data directory (which load_config always fills in)."""
        assert self.paths.data_dir is not None, "load_config resolves paths.data_dir"
        return self.paths.data_dir / name
