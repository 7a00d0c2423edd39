"""Typed, frozen settings loaded from config.yaml, with environment overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.coaching.scorecards import DEFAULT_TITLE, MAX_ITEMS, MAX_TEXT, MAX_WEIGHT, ItemDraft, ScorecardDraft
from service.errors import SettingsError
from service.exports.works import DEFAULT_STATES, EXPERT_ASSIGNMENT, PM_ASSIGNMENT, STATE_CODES
from service.transition.machine import DEFAULT_DECLINE_REASONS
from texts.glossary import canonical

if TYPE_CHECKING:
    from dialer.tracker import TrackerConfig
    from scheduler.calendar import WorkCalendar
    from scheduler.rules import PlanRules
    from service.compare.survey import SurveyMapping
    from service.ktu.rules import KtuRules
    from service.selection.scoring import SelectionRules

ENV_CONFIG = "DSDESK_CONFIG"
ENV_DATABASE_URL = "DSDESK_DATABASE_URL"
ENV_AMI_SECRET = "DSDESK_AMI_SECRET"
ENV_SECRET_KEY = "DSDESK_SECRET_KEY"
CONFIG_NAME = "config.yaml"
REPO_ROOT = Path(__file__).resolve().parents[1]

# One named group `ext` (Python's `re` forbids repeating a name, hence the lookaheads); only
# short numeric extensions count, so a trunk such as `PJSIP/provider-0001` is never an Expert.
DEFAULT_EXPERT_CHANNEL_PATTERN = (
    r"^(?:(?:PJSIP|SIP)/(?=\d{2,6}-)|Local/(?=\d{2,6}@ds-agents))(?P<ext>\d{2,6})"
)

# Scenario names of the built-in PBX, one per capture in tests/fixtures/ami/asterisk-22/.
SIMULATOR_SCENARIOS = (
    "answered", "expert_hangs_up", "no_answer", "rejected", "busy", "congestion",
    "cancelled", "expert_no_answer", "inbound_answered", "inbound_missed",
)
DEFAULT_OUTCOME_MIX = {
    "answered": 0.45, "expert_hangs_up": 0.05, "no_answer": 0.12, "rejected": 0.06,
    "busy": 0.08, "congestion": 0.03, "cancelled": 0.04, "expert_no_answer": 0.04,
    "inbound_answered": 0.10, "inbound_missed": 0.03,
}
_DB_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgresql+asyncpg", "postgres")


def _ordered(value: tuple[float, float]) -> tuple[float, float]:
    if not 0 <= value[0] <= value[1]:
        raise ValueError("must be [min, max] with 0 <= min <= max")
    return value


Range = Annotated[tuple[float, float], AfterValidator(_ordered)]
Port = Annotated[int, Field(ge=0, le=65535)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/dsdesk.db"  # relative paths: from the working directory

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in _DB_SCHEMES:
            raise ValueError(f"unsupported database URL scheme {scheme!r}; use sqlite or postgresql")
        return value

    def __repr_args__(self) -> Iterator[tuple[str, Any]]:
        # A PostgreSQL URL may carry a password; repr() ends up in logs.
        yield "url", mask_url(self.url)


class PbxSettings(_Section):
    mode: Literal["simulator", "asterisk"] = "simulator"


class ReconnectSettings(_Section):
    min_s: float = Field(default=0.5, gt=0)
    max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _max_not_below_min(self) -> ReconnectSettings:
        if self.max_s < self.min_s:
            raise ValueError("max_s must be >= min_s")
        return self


class AmiSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 5038
    username: str = "dsdesk"
    secret: SecretStr = SecretStr("")  # prefer the DSDESK_AMI_SECRET environment variable
    keepalive_s: float = Field(default=20.0, gt=0)
    action_timeout_s: float = Field(default=10.0, gt=0)
    reconnect: ReconnectSettings = ReconnectSettings()
    expert_channel_pattern: re.Pattern[str] = re.compile(DEFAULT_EXPERT_CHANNEL_PATTERN)
    # Click-to-call: the Expert's phone ({ext} is the extension) and the context that records and dials.
    originate_channel: str = "PJSIP/{ext}"
    originate_context: str = "ds-outbound"

    @field_validator("expert_channel_pattern")
    @classmethod
    def _has_ext_group(cls, value: re.Pattern[str]) -> re.Pattern[str]:
        if "ext" not in value.groupindex:
            raise ValueError("needs a named group (?P<ext>...) that captures the extension")
        return value

    def expert_ext(self, channel: str) -> str | None:
        """The Expert's extension if `channel` is an Expert's channel, else None."""
        match = self.expert_channel_pattern.search(channel)
        return match.group("ext") if match else None


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {value!r}") from e
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]  # an IANA zone: Europe/Moscow, UTC


class OrganisationSettings(_Section):
    timezone: TimeZoneName = "Europe/Moscow"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CdrSettings(_Section):
    """Asterisk's own CDR as the ledger's backstop after gaps (docs/asterisk.md gives the PBX side).

    `kind`: none; csv (a `cdr_custom` file with DS Desk's mapping, no header line); json (a
    `cdr_custom` JSON-lines file); table (a PostgreSQL table written by `cdr_pgsql`). `timezone`:
    how the PBX writes times that are not epoch seconds (CDR() formats in the PBX's local time).
    """

    kind: Literal["none", "csv", "json", "table"] = "none"
    path: Path | None = None
    url: str | None = None  # for `table`: postgresql+asyncpg://user@host/asterisk
    table: str = Field(default="cdr", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
    timezone: TimeZoneName = "UTC"

    @model_validator(mode="after")
    def _source_given(self) -> CdrSettings:
        if self.kind in ("csv", "json") and self.path is None:
            raise ValueError(f"cdr.kind {self.kind} needs cdr.path (the file cdr_custom writes)")
        if self.kind == "table" and not self.url:
            raise ValueError("cdr.kind table needs cdr.url (the database cdr_pgsql writes to)")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RecordingsSettings(_Section):
    dir: Path = Path("var/recordings")
    pbx_prefix: str = "/var/spool/asterisk/monitor/"
    retention_days: int = Field(default=0, ge=0)  # delete recordings older than this; 0: keep forever

    def local_path(self, pbx_path: str) -> Path | None:
        """Where a recording the PBX reported lives in DS Desk's directory (None: elsewhere)."""
        if pbx_path.startswith(self.pbx_prefix):
            return self.dir / pbx_path[len(self.pbx_prefix):].lstrip("/")
        return None if Path(pbx_path).is_absolute() else self.dir / pbx_path

    def inside_path(self, pbx_path: str) -> Path | None:
        """The recording's real path (symlinks followed) when it lies inside `dir`; never raises.

        None when the PBX path maps elsewhere or can be no file of ours: a symlink loop
        (RuntimeError), a name or path too long (OSError), a NUL (ValueError). The player and
        the retention job both go through here.
        """
        try:
            local = self.local_path(pbx_path)
            if local is None:
                return None
            resolved = local.resolve()
            return resolved if resolved.is_relative_to(self.dir.resolve()) else None
        except (OSError, RuntimeError, ValueError):
            return None

    def existing_file(self, pbx_path: str) -> Path | None:
        """`inside_path` when it is a regular file there now; never raises (ENAMETOOLONG, EACCES…)."""
        path = self.inside_path(pbx_path)
        try:
            return path if path is not None and path.is_file() else None
        except (OSError, ValueError):
            return None


class SimulatorSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 0  # 0: any free port; the runner connects to the one actually bound
    speed: float = Field(default=1.0, gt=0)  # simulated seconds per real second
    outcome_mix: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_OUTCOME_MIX))
    # Extensions that get demo calls: anna and pavel. maria (101) is left quiet for a newcomer
    # to sign in as and call from her screen by hand.
    experts: tuple[str, ...] = ("102", "103")
    demo_load: bool = True
    demo_calls_per_minute: float = Field(default=6.0, gt=0)
    expert_ring_s: Range = (1.0, 4.0)
    ring_s: Range = (2.0, 15.0)
    talk_s: Range = (40.0, 840.0)  # several minutes: a productive call is 10–12 (the demo is realistic)

    @field_validator("outcome_mix")
    @classmethod
    def _known_scenarios(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SIMULATOR_SCENARIOS))
        if unknown:
            raise ValueError(f"unknown scenario(s) {unknown}; known: {list(SIMULATOR_SCENARIOS)}")
        if any(weight < 0 for weight in value.values()) or not any(value.values()):
            raise ValueError("weights must be >= 0 and at least one > 0")
        return value


class PlanSettings(_Section):
    """The daily call plan: when it is built, the targets and the rules (scheduler.rules.PlanRules)."""

    build_at: time = time(6, 30)  # organisation time, on working days
    end_of_day: time = time(23, 0)  # unfinished items roll over («перенесён») after this
    target_min: int = Field(default=15, ge=1)
    target_max: int = Field(default=17, ge=1)
    productive_target: int = Field(default=12, ge=0)
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    lunch_start: time = time(13, 0)
    lunch_end: time = time(14, 0)
    slot_minutes: int = Field(default=25, ge=5)
    retry_max_attempts: int = Field(default=3, ge=1)
    cadence_days: int = Field(default=14, ge=1)
    not_logged_in_days: int = Field(default=14, ge=1)
    not_trained_days: int = Field(default=90, ge=1)
    terms_ending_days: int = Field(default=30, ge=0)
    debt_threshold_rub: float = Field(default=0.0, ge=0)
    extra_days_off: tuple[date, ...] = ()  # overrides of the production calendar
    extra_working_days: tuple[date, ...] = ()
    # The client's business hours (its local time): a contact without a call window of its own is
    # planned and called only inside them (the desk asks to confirm a call outside them).
    client_hours: tuple[time, time] = (time(9, 0), time(18, 0))

    @field_validator("client_hours")
    @classmethod
    def _hours_ordered(cls, value: tuple[time, time]) -> tuple[time, time]:
        if not value[0] < value[1]:
            raise ValueError("client_hours must be [start, end] with start < end")
        return value

    def rules(self) -> PlanRules:
        from scheduler.rules import PlanRules  # lazy: settings load without the scheduler

        names = ("target_min", "target_max", "day_start", "day_end", "lunch_start", "lunch_end",
                 "slot_minutes", "retry_max_attempts", "cadence_days", "not_logged_in_days",
                 "not_trained_days", "terms_ending_days", "debt_threshold_rub", "client_hours")
        return PlanRules(**{name: getattr(self, name) for name in names})

    def calendar(self) -> WorkCalendar:
        from scheduler.calendar import WorkCalendar

        return WorkCalendar(extra_days_off=self.extra_days_off, extra_working_days=self.extra_working_days)


class ServiceSettings(_Section):
    host: str = "127.0.0.1"
    port: Port = 8080
    # Encrypts the session cookies; prefer DSDESK_SECRET_KEY. Empty: a key is generated once into
    # secret_key_file, so a restart keeps everyone signed in.
    secret_key: SecretStr = SecretStr("")
    secret_key_file: Path = Path("var/secret.key")
    secure_cookies: bool = False  # true when DS Desk is served over HTTPS
    session_hours: float = Field(default=12.0, gt=0)  # a sign-in lasts this long (a working day)
    # A refused sign-in (429) is answered only after this many seconds: a flood of guesses then
    # waits on its sockets instead of taking the CPU from the Experts' pages. 0: answer at once.
    login_refusal_delay_s: float = Field(default=2.0, ge=0, le=30)
    # The address people reach DS Desk at (behind a proxy: the proxy's): links written into files that
    # leave the service, such as a call's page in the CRM's «Работы» (docs/exports.md), start with it.
    public_url: str = Field(default="http://127.0.0.1:8080", pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


DEFAULT_TOPICS = (
    "Переход на дистанционный сервис",
    "СМАРТ-комплект",
    "Обзор новостей и изменений",
    "Обучение",
    "Обучение нового пользователя",
    "Продление финансовых условий",
    "Приглашение на сервис",
    "Приглашение на семинар",
    "Ответ на обращение на ГЛ",
    "Ответ на вопрос в Линию консультаций",
    "Решение проблемы",
    "Выполнение задания",
    "Задолженность",
    "Обратный звонок",
)
# «Работа в ВЭ»: in the centre's CRM (ВЭ), away from the phone (GLOSSARY).
DEFAULT_PAUSE_REASONS = ("Обед", "Перерыв", "Обучение", "Совещание", "Работа в ВЭ")


class DeskSettings(_Section):
    """The Expert's screen: the topics (инфоповоды) a wrap-up can name, the calling-time guard,
    the pauses and the wrap-up rules."""

    topics: tuple[str, ...] = DEFAULT_TOPICS
    # Outside the client's hours the desk asks the Expert to confirm a call; true: it refuses instead.
    block_outside_hours: bool = False
    callback_max_days: int = Field(default=60, ge=1, le=366)  # a callback at most this far ahead
    # The pauses an Expert may take (the reason is stored with each pause; another is refused).
    pause_reasons: tuple[str, ...] = DEFAULT_PAUSE_REASONS
    # The board turns a wrap-up amber after this long.
    wrapup_warn_s: int = Field(default=300, ge=10, le=86_400)
    # A new call cannot start while a call of this Expert today still has no wrap-up.
    forced_wrapup: bool = True

    @field_validator("topics", "pause_reasons")
    @classmethod
    def _some_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # One spelling of each product name (texts/glossary.py): an old variant reads as the glossary spells it.
        cleaned = tuple(dict.fromkeys(canonical(t) for t in value if t.strip()))
        if not cleaned:
            raise ValueError("needs at least one entry")
        return cleaned


class TargetsSettings(_Section):
    """The department's control figures' targets (SPEC-NOTES: Figures); reports colour what is off."""

    planned_min: int = Field(default=15, ge=0)  # planned calls per Expert per day: 15–17
    planned_max: int = Field(default=17, ge=0)
    productive_per_day: int = Field(default=12, ge=0)
    productive_minutes_min: float = Field(default=10.0, ge=0)  # average productive call: 10–12 min
    productive_minutes_max: float = Field(default=12.0, ge=0)
    login_share: float = Field(default=0.6, ge=0, le=1)  # contacts with the client logged in
    # A call may be marked productive only with «Контакт состоялся» and at least this much PBX talk time.
    productive_min_talk_s: float = Field(default=120.0, ge=0)
    # A login counts for a call when it overlaps the talk widened by this much on each side.
    login_grace_s: float = Field(default=120.0, ge=0, le=3600)
    # A ПМ по ДС's month (issue 16, /visits): visits that took place, and her calls in the ledger.
    pm_visits_planned_min: int = Field(default=30, ge=0)
    pm_visits_planned_max: int = Field(default=32, ge=0)
    pm_visits_unplanned_min: int = Field(default=10, ge=0)
    pm_visits_unplanned_max: int = Field(default=12, ge=0)
    pm_calls_min: int = Field(default=20, ge=0)
    pm_calls_max: int = Field(default=50, ge=0)

    @model_validator(mode="after")
    def _ranges_ordered(self) -> TargetsSettings:
        if self.planned_max < self.planned_min:
            raise ValueError("planned_max must be >= planned_min")
        if self.productive_minutes_max < self.productive_minutes_min:
            raise ValueError("productive_minutes_max must be >= productive_minutes_min")
        for name in ("pm_visits_planned", "pm_visits_unplanned", "pm_calls"):
            if getattr(self, f"{name}_max") < getattr(self, f"{name}_min"):
                raise ValueError(f"{name}_max must be >= {name}_min")
        return self


class ImportsSettings(_Section):
    """The drop folder: files put there (a nightly CRM export) are imported with no one at a keyboard."""

    watch_dir: Path | None = None  # None: no folder is watched
    poll_s: float = Field(default=10.0, gt=0, le=3600)  # how often the folder is looked at
    settle_s: float = Field(default=30.0, ge=0, le=86400)  # a file written less long ago is left for later


Thresholds = tuple[int, int, int]
_CAMPAIGN_FIELDS = frozenset({"decline_reasons", "offer_kit", "offer_price", "offer_date"})  # not scoring rules


class SelectionSettings(_Section):
    """Choosing clients for ДС (docs/selection.md): each criterion's thresholds for 1, 2 and 3 points,
    and the total a candidate needs, which map onto service.selection.scoring.SelectionRules one to one;
    then the transition campaign's refusal reasons and offer."""

    min_total: int = Field(default=12, ge=0, le=24)  # of 24
    loyalty_years: Thresholds = (1, 3, 5)  # whole years a client
    debt_threshold_rub: Decimal = Field(default=Decimal(0), ge=0)  # debt above this: one loyalty point less
    skills_logins: Thresholds = (1, 5, 15)  # logins to the online version in 30 days
    users_at_most: Thresholds = (2, 4, 7)  # at most this many users: 3, 2, 1 points; more: 0
    prepay_months: Thresholds = (1, 2, 6)
    services_count: Thresholds = (1, 2, 3)
    remoteness_km: tuple[float, float, float] = (10.0, 30.0, 80.0)
    # The transition campaign (docs/selection.md, «Campaign»): a refusal's reason is one of these;
    # the offer the transition script names (price and date: None — the script says to take them from the offer).
    decline_reasons: tuple[str, ...] = DEFAULT_DECLINE_REASONS
    offer_kit: str = "СМАРТ-комплект"
    offer_price: str | None = None  # as said to the client: «4 900 ₽ в месяц»
    offer_date: date | None = None  # the move's date offered: «с 01.02.2027»

    @field_validator("decline_reasons")
    @classmethod
    def _some_reasons(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(" ".join(r.split()) for r in value if r.strip()))
        if not cleaned:
            raise ValueError("needs at least one reason")
        return cleaned

    @field_validator("offer_kit", "offer_price")
    @classmethod
    def _offer_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = canonical(" ".join(value.split()))  # the glossary's spelling: «СМАРТ-комплект»
        if not cleaned:
            raise ValueError("must not be empty (leave the key out instead)")
        return cleaned

    @field_validator("loyalty_years", "skills_logins", "users_at_most", "prepay_months", "services_count",
                     "remoteness_km")
    @classmethod
    def _ascending(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not 0 <= value[0] < value[1] < value[2]:
            raise ValueError("must be three ascending numbers >= 0 (for 1, 2 and 3 points), e.g. [1, 3, 5]")
        return value

    @field_validator("users_at_most")
    @classmethod
    def _some_users(cls, value: Thresholds) -> Thresholds:
        if value[0] < 1:
            raise ValueError("must start at 1 or more (a client with no users marked scores 0)")
        return value

    def rules(self) -> SelectionRules:
        from service.selection.scoring import SelectionRules  # lazy, like plan.rules()

        return SelectionRules(**{name: getattr(self, name) for name in type(self).model_fields
                                 if name not in _CAMPAIGN_FIELDS})


def _decimals(*texts: str) -> Any:
    return tuple(Decimal(text) for text in texts)


class KtuRoleSettings(_Section):
    """One role's КТУ values (docs/ktu.md); the presentation's defaults, common to the Expert and the PM."""

    vksp_balance: tuple[Decimal, Decimal, Decimal] = _decimals("-0.1", "0", "0.3")  # loss, none, gain
    training_plan: tuple[Decimal, Decimal] = _decimals("-0.5", "0.5")  # [not met, met]
    collection_completeness: tuple[Decimal, Decimal, Decimal, Decimal] = _decimals("0", "0.1", "0.2", "0.3")
    training_excellence: Decimal = Field(default=Decimal("0.05"), ge=0)  # entered: 0 or this
    deduction: tuple[Decimal, Decimal] = _decimals("-0.8", "-0.05")  # entered: [most, least] by ktu.deduction_step

    # The subclasses' plans too (check_fields=False: they are not fields of this class).
    @field_validator("vksp_balance", "training_plan", "collection_completeness", "st_invitations_plan",
                     "seminar_sales_plan", "gk_subscriptions_plan", check_fields=False)
    @classmethod
    def _not_descending(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if list(value) != sorted(value):
            raise ValueError("values must go from the worst to the best, e.g. [-0.5, 0.5]")
        return value

    @field_validator("deduction")
    @classmethod
    def _negative_range(cls, value: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
        if not value[0] <= value[1] < 0:
            raise ValueError("must be [most, least] with most <= least < 0, e.g. [-0.8, -0.05]")
        return value


class KtuExpertSettings(KtuRoleSettings):
    st_invitations_plan: tuple[Decimal, Decimal] = _decimals("-0.5", "0.5")  # [not met, met]


class KtuPmSettings(KtuRoleSettings):
    seminar_sales_plan: tuple[Decimal, Decimal] = _decimals("0", "0.5")  # «+0,5»: nothing when not met
    gk_subscriptions_plan: tuple[Decimal, Decimal] = _decimals("0", "0.1")  # «+0,1»


class KtuFactTopicsSettings(_Section):
    """Which wrap-up and visit topics (desk.topics) count as the fact of a monthly plan (docs/ktu.md)."""

    training: tuple[str, ...] = ("Обучение", "Обучение нового пользователя")
    st_invitations: tuple[str, ...] = ("Приглашение на семинар",)

    @field_validator("training", "st_invitations")
    @classmethod
    def _some_topics(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Spelled as desk.topics are (texts/glossary.py), so the comparison with them is exact.
        cleaned = tuple(dict.fromkeys(canonical(t) for t in value if t.strip()))
        if not cleaned:
            raise ValueError("needs at least one topic of desk.topics")
        return cleaned


class KtuSettings(_Section):
    """The КТУ sheet (docs/ktu.md): the price of 0.1 КТУ, the thresholds and each role's values,
    which map onto service.ktu.rules.KtuRules."""

    # «Стоимость 0,1 КТУ от 1200 до 2500 руб.»: a value outside the presentation's range is refused.
    rub_per_0_1: Decimal = Field(default=Decimal(1500), ge=1200, le=2500, decimal_places=2)
    # Баланс ВКСП [loss below, gain above]: below the first the role's worst value, above the second its best.
    vksp_balance_thresholds: tuple[Decimal, Decimal] = _decimals("0", "0")
    # Полнота сбора (a share, 0..1) from which the 2nd, 3rd and 4th value applies.
    collection_completeness_thresholds: tuple[Decimal, Decimal, Decimal] = _decimals("0.7", "0.8", "0.9")
    deduction_step: Decimal = Field(default=Decimal("0.05"), gt=0)
    expert: KtuExpertSettings = KtuExpertSettings()
    pm: KtuPmSettings = KtuPmSettings()
    fact_topics: KtuFactTopicsSettings = KtuFactTopicsSettings()

    @field_validator("vksp_balance_thresholds")
    @classmethod
    def _band(cls, value: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
        if not value[0] <= value[1]:
            raise ValueError("must be [loss below, gain above] with the first <= the second, e.g. [0, 0]")
        return value

    @field_validator("collection_completeness_thresholds")
    @classmethod
    def _shares_ascending(cls, value: tuple[Decimal, Decimal, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
        if not 0 < value[0] < value[1] < value[2] <= 1:
            raise ValueError("must be three ascending shares in (0, 1], e.g. [0.7, 0.8, 0.9]")
        return value

    @model_validator(mode="after")
    def _deductions_fit_the_step(self) -> KtuSettings:
        for name in ("expert", "pm"):
            most, least = getattr(self, name).deduction
            if (least - most) % self.deduction_step:
                raise ValueError(f"{name}.deduction: from {least} to {most} is not a whole number of "
                                 f"deduction_step ({self.deduction_step})")
        return self

    def rules(self) -> KtuRules:
        from service.ktu import rules as k  # lazy, like plan.rules()

        def common(role: KtuRoleSettings) -> dict[str, k.Rule]:
            return {
                k.VKSP_BALANCE: k.BalanceRule(*role.vksp_balance, *self.vksp_balance_thresholds),
                k.TRAINING_PLAN: k.PlanRule(k.PlanKind.TRAINING, *role.training_plan),
            }

        def tail(role: KtuRoleSettings) -> dict[str, k.Rule]:
            most, least = role.deduction
            return {
                k.COLLECTION_COMPLETENESS: k.StepRule(self.collection_completeness_thresholds,
                                                      role.collection_completeness),
                k.TRAINING_EXCELLENCE: k.EntryRule(tuple(sorted({Decimal(0), role.training_excellence}))),
                k.DEDUCTION: k.EntryRule(k.deduction_values(most, least, self.deduction_step)),
            }

        expert, pm = self.expert, self.pm
        return k.KtuRules(self.rub_per_0_1, {
            k.Role.EXPERT: {**common(expert),
                            k.ST_INVITATIONS_PLAN: k.PlanRule(k.PlanKind.ST_INVITATIONS, *expert.st_invitations_plan),
                            **tail(expert)},
            k.Role.PM: {**common(pm),
                        k.SEMINAR_SALES_PLAN: k.PlanRule(k.PlanKind.SEMINAR_SALES, *pm.seminar_sales_plan),
                        k.GK_SUBSCRIPTIONS_PLAN: k.PlanRule(k.PlanKind.GK_SUBSCRIPTIONS, *pm.gk_subscriptions_plan),
                        **tail(pm)},
        })


class SurveyMeasureSettings(_Section):
    """One of the survey's six measures: the question's column in the export and the answers that count."""

    question: str = Field(min_length=1, max_length=2000)
    positive: tuple[str, ...] = Field(min_length=1)


def _default_survey() -> dict[str, SurveyMeasureSettings]:
    from service.compare.survey import DEFAULT_SURVEY

    return {measure: SurveyMeasureSettings(question=q.column, positive=q.positive)
            for measure, q in DEFAULT_SURVEY.items()}


class CompareSettings(_Section):
    """The ДС-versus-КС comparison (docs/compare.md): how a SendPulse campaign's kind is told from its
    name, and which survey question is which measure."""

    # words in the campaign's name → its kind (reviews | informational | news | gk); the first that matches
    mailing_kinds: dict[str, Literal["reviews", "informational", "news", "gk"]] = {
        "Обзор": "reviews", "Подписчикам ГК": "gk", "Новости": "news", "Приглашение": "informational",
        "Анонс": "informational"}
    survey: dict[str, SurveyMeasureSettings] = Field(default_factory=_default_survey)

    @field_validator("survey")
    @classmethod
    def _known_measures(cls, value: dict[str, SurveyMeasureSettings]) -> dict[str, SurveyMeasureSettings]:
        from service.compare.survey import MEASURES

        unknown = sorted(set(value) - set(MEASURES))
        if unknown:
            raise ValueError(f"unknown measure(s) {', '.join(unknown)}: the six are {', '.join(MEASURES)}")
        columns = [measure.question for measure in value.values()]
        if len(set(columns)) != len(columns):
            raise ValueError("two measures name the same question")
        return value

    def mailing_rules(self) -> tuple[tuple[str, str], ...]:
        return tuple((words, kind) for words, kind in self.mailing_kinds.items())

    def survey_mapping(self) -> SurveyMapping:
        from service.compare.survey import SurveyQuestion

        return {measure: SurveyQuestion(s.question, s.positive) for measure, s in self.survey.items()}


class ScorecardItemSettings(_Section):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    weight: int = Field(ge=0, le=MAX_WEIGHT, strict=True)  # a whole number: 1.5 or "2" is refused, not rounded

    @field_validator("text")
    @classmethod
    def _some_text(cls, value: str) -> str:
        cleaned = " ".join(value.split())
        if not cleaned:
            raise ValueError("must not be empty")
        return cleaned


DEFAULT_SCORECARD_ITEMS = (
    ScorecardItemSettings(text="Поздоровался и представился", weight=1),
    ScorecardItemSettings(text="Назвал инфоповод", weight=1),
    ScorecardItemSettings(text="Клиент зашёл в систему", weight=2),
    ScorecardItemSettings(text="Договорились о следующем контакте", weight=1),
)


class CoachingSettings(_Section):
    """Coaching (issue 18, docs/coaching-scorecards.md): the scorecard calls are scored with until a
    supervisor saves one at /admin/scorecard (the newest saved version wins from then on)."""

    scorecard_title: str = Field(default=DEFAULT_TITLE, min_length=1, max_length=MAX_TEXT)
    scorecard_items: tuple[ScorecardItemSettings, ...] = DEFAULT_SCORECARD_ITEMS

    @field_validator("scorecard_items")
    @classmethod
    def _scorable(cls, value: tuple[ScorecardItemSettings, ...]) -> tuple[ScorecardItemSettings, ...]:
        if not value:
            raise ValueError("needs at least one item")
        if len(value) > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} items")
        if not any(item.weight for item in value):
            raise ValueError("all weights are 0: at least one item needs a weight > 0")
        texts = [item.text.casefold() for item in value]
        repeated = next((item.text for i, item in enumerate(value) if item.text.casefold() in texts[:i]), None)
        if repeated is not None:
            raise ValueError(f"item {repeated!r} is listed twice")
        return value

    def scorecard(self) -> ScorecardDraft:
        """The configured scorecard, in the form a stored version is made from."""
        return ScorecardDraft(self.scorecard_title,
                              tuple(ItemDraft(item.text, item.weight) for item in self.scorecard_items))


class WebhooksSettings(_Section):
    """Webhooks (docs/webhooks.md): the sender's pace and patience, and the receivers on private networks.

    `enabled: false` stops this process sending; events are still written to the outbox for the
    subscriptions, and sent once a process with webhooks enabled runs.
    """

    enabled: bool = True
    poll_s: float = Field(default=1.0, gt=0, le=3600)  # how often the outbox is looked at when idle
    timeout_s: float = Field(default=10.0, gt=0, le=300)  # a receiver's answer after this long is a failure
    give_up_hours: float = Field(default=24.0, gt=0, le=24 * 30)  # retried until the event is this old
    keep_days: int = Field(default=30, ge=1, le=3650)  # delivered and failed deliveries are deleted after this
    # Loopback and private receivers (on-premises): addresses, networks (10.0.0.0/8) or host names.
    # Link-local and cloud metadata addresses, and DS Desk's own address, are refused whatever this says.
    allow_private_hosts: tuple[str, ...] = ()

    @field_validator("allow_private_hosts")
    @classmethod
    def _known_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from service.webhooks.urls import split_allow_list

        split_allow_list(value)  # a wrong entry raises ValueError naming it
        return tuple(entry.strip().lower() for entry in value)


class ExportsSettings(_Section):
    """«Работы» for the CRM (ВЭ) (docs/exports.md): the nightly file, its format, the state and the
    assignment type each work is written with, and how many days one download may hold."""

    dir: Path = Path("var/exports")  # works-YYYY-MM-DD.csv (or .xlsx) for each day
    format: Literal["csv", "xlsx"] = "csv"  # csv: Windows-1251 with `;`
    at: time = time(23, 30)  # organisation time, every day: the day's file (before noon: the day before's)
    max_range_days: int = Field(default=93, ge=1, le=3660)  # a download or `dsdesk exports works` at most
    expert_assignment: str = Field(default=EXPERT_ASSIGNMENT, min_length=1, max_length=200)  # an Expert's calls
    pm_assignment: str = Field(default=PM_ASSIGNMENT, min_length=1, max_length=200)  # a PM's calls and visits
    # Our code → the CRM's state: wrap-up results, then the PBX outcomes of calls without a wrap-up, then
    # visit results. A code left out keeps its default.
    states: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATES))

    @field_validator("states")
    @classmethod
    def _every_code_mapped(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(STATE_CODES))
        if unknown:
            raise ValueError(f"unknown code(s) {', '.join(unknown)}; known: {', '.join(STATE_CODES)}")
        empty = sorted(code for code, state in value.items() if not str(state).strip())
        if empty:
            raise ValueError(f"empty state for {', '.join(empty)}")
        return {code: " ".join(str(value.get(code, default)).split()) for code, default in DEFAULT_STATES.items()}


class ApiSettings(_Section):
    """The REST API (docs/api.md): tokens' default rate, incremental sync."""

    per_minute: int = Field(default=600, ge=1, le=100_000)  # a new token's requests a minute (editable per token)
    # With `updated_since`, rows written less than this long ago wait for the next request: a transaction
    # that began earlier and commits later cannot slip behind a client's cursor.
    sync_settle_s: float = Field(default=5.0, ge=0, le=600)


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    pbx: PbxSettings = PbxSettings()
    ami: AmiSettings = AmiSettings()
    organisation: OrganisationSettings = OrganisationSettings()
    recordings: RecordingsSettings = RecordingsSettings()
    cdr: CdrSettings = CdrSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    service: ServiceSettings = ServiceSettings()
    plan: PlanSettings = PlanSettings()
    desk: DeskSettings = DeskSettings()
    targets: TargetsSettings = TargetsSettings()
    imports: ImportsSettings = ImportsSettings()
    selection: SelectionSettings = SelectionSettings()
    # Validated even when left out: its default topics must be among a narrowed desk.topics.
    ktu: KtuSettings = Field(default=KtuSettings(), validate_default=True)
    compare: CompareSettings = CompareSettings()
    coaching: CoachingSettings = CoachingSettings()
    webhooks: WebhooksSettings = WebhooksSettings()
    exports: ExportsSettings = ExportsSettings()
    api: ApiSettings = ApiSettings()

    @field_validator("ktu")
    @classmethod
    def _fact_topics_among_desk_topics(cls, ktu: KtuSettings, info: ValidationInfo) -> KtuSettings:
        # A topic the desk does not offer could never be chosen in a wrap-up: its plan would never be met.
        desk = info.data.get("desk")
        if desk is None:  # desk itself is invalid and reported by name
            return ktu
        topics = ktu.fact_topics
        explicit = topics.model_fields_set if "fact_topics" in ktu.model_fields_set else set()
        kept: dict[str, tuple[str, ...]] = {}
        for kind in ("training", "st_invitations"):
            listed: tuple[str, ...] = getattr(topics, kind)
            unknown = [t for t in listed if t not in desk.topics]
            if unknown and kind in explicit:
                raise ValueError(f"fact_topics.{kind}: " + ", ".join(f"«{t}»" for t in unknown)
                                 + " not among desk.topics")
            # A default the department's desk.topics do not offer is left out (an older config.yaml
            # with its own topics still starts); none left means the fact could not be measured.
            kept[kind] = tuple(t for t in listed if t in desk.topics)
            if not kept[kind]:
                raise ValueError(f"fact_topics.{kind}: none of " + ", ".join(f"«{t}»" for t in listed)
                                 + f" is among desk.topics; set ktu.fact_topics.{kind} to the topics that count")
        return ktu.model_copy(update={"fact_topics": topics.model_copy(update=kept)})

    def tracker_config(self) -> TrackerConfig:
        """The call tracker's configuration (dialer.replay and the runner look for this)."""
        from dialer.tracker import TrackerConfig  # lazy: settings load without the dialer

        return TrackerConfig(
            expert_channel_pattern=self.ami.expert_channel_pattern.pattern,
            recording_pbx_prefix=self.recordings.pbx_prefix,
        )


def load_settings(path: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Load settings: `path`, else $DSDESK_CONFIG, else ./config.yaml, else the repo's, else defaults."""
    env = os.environ if env is None else env
    config_path = _config_path(path, env)
    data = _read_yaml(config_path) if config_path is not None else {}
    data = _apply_env(data, env)
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise SettingsError(_describe(e, config_path)) from e


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


def _config_path(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    chosen = path or env.get(ENV_CONFIG) or None
    if chosen is not None:
        if not Path(chosen).is_file():
            raise SettingsError(f"config file not found: {chosen}")
        return Path(chosen)
    for candidate in (Path.cwd() / CONFIG_NAME, REPO_ROOT / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SettingsError(f"{path}: cannot read: {e}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the top level must be a mapping of sections")
    return data


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Environment variables win over the file (deployers keep secrets out of it)."""
    data = dict(data)
    if env.get(ENV_DATABASE_URL):
        data["database"] = _with_key(data.get("database"), "url", env[ENV_DATABASE_URL])
    if env.get(ENV_AMI_SECRET):
        data["ami"] = _with_key(data.get("ami"), "secret", env[ENV_AMI_SECRET])
    if env.get(ENV_SECRET_KEY):
        data["service"] = _with_key(data.get("service"), "secret_key", env[ENV_SECRET_KEY])
    return data


def _with_key(section: object, key: str, value: str) -> object:
    if section is None:
        return {key: value}
    # A malformed section is left as is so that validation reports it by name.
    return {**section, key: value} if isinstance(section, dict) else section


def _describe(error: ValidationError, path: Path | None) -> str:
    source = str(path) if path is not None else "settings"
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
