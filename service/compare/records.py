"""The comparison's imported rows (issue 17, item 1; docs/import.md): what each import kind's row becomes. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

CHANNELS = ("chat", "lk", "hotline")  # where a client's request came in
CHANNEL_LABELS = {"chat": "чат", "lk": "ЛК", "hotline": "горячая линия"}
MAILING_KINDS = ("reviews", "informational", "news", "gk")
MAILING_KIND_LABELS = {"reviews": "обзоры", "informational": "прочие информационные",
                       "news": "новости по аудиториям", "gk": "подписчикам ГК"}


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    client_external_id: str
    contact_external_id: str
    day: date
    kind: str


@dataclass(frozen=True, slots=True)
class SeminarVisitRecord:
    client_external_id: str
    contact_external_id: str  # '' when the export names nobody
    day: date
    seminar: str


@dataclass(frozen=True, slots=True)
class ActRecord:
    client_external_id: str
    period: date  # the month's 1st
    due_on: date
    returned_on: date | None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    client_external_id: str
    channel: str
    created_at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class MailingRecord:
    campaign: str
    sent_on: date
    audience: str
    kind: str
    sent: int
    delivered: int
    opened: int
    clicked: int
    unsubscribed: int


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    respondent: str
    answered_on: date
    client_external_id: str | None
    answers: dict[str, str]  # measure → the answer as written
