"""Why a contact is due today: one `Hit` per rule that fires, per organisation of a portfolio.

Owed hits are about one person (a promise, a not-reached call, their own request) and stay on
that contact. Due hits are about the organisation (cadence, online logins, terms, debt, an
untrained user) and are merged into whichever single call the organisation gets today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.builder_index import PortfolioIndex
from scheduler.calendar import WorkCalendar
from scheduler.inputs import Client, ContactSummary, Transition
from scheduler.model import ReasonCode, Version
from scheduler.rules import PlanRules
from texts import plan as txt

# Order of taking when more is owed than fits: callbacks, rolled over, signals (the campaign's
# calls with them), retries, due, fill.
TIER: dict[ReasonCode, int] = {
    ReasonCode.CALLBACK: 0,
    ReasonCode.ROLLED_OVER: 1,
    ReasonCode.SIGNAL: 2,
    ReasonCode.TRANSITION: 2,
    ReasonCode.RETRY: 3,
    ReasonCode.CADENCE: 4,
    ReasonCode.NOT_LOGGED_IN: 4,
    ReasonCode.NOT_TRAINED: 4,
    ReasonCode.TERMS_ENDING: 4,
    ReasonCode.DEBT: 4,
    ReasonCode.FILL: 5,
}
DUE_TIER = 4
# The topic comes from the most specific reason: "terms end" says more than "not reached"; the
# move to ДС is the call's subject whatever else is owed (its script is the «Речевой ролик»).
TOPIC_ORDER: tuple[ReasonCode, ...] = (
    ReasonCode.CALLBACK,
    ReasonCode.ROLLED_OVER,
    ReasonCode.TRANSITION,
    ReasonCode.SIGNAL,
    ReasonCode.TERMS_ENDING,
    ReasonCode.DEBT,
    ReasonCode.NOT_LOGGED_IN,
    ReasonCode.NOT_TRAINED,
    ReasonCode.RETRY,
    ReasonCode.CADENCE,
    ReasonCode.FILL,
)
NOT_REACHED = "not_reached"


@dataclass(frozen=True, slots=True)
class Hit:
    code: ReasonCode
    text: str
    since: date  # when the reason arose: the older, the more urgent within a tier
    subject: str | None = None  # the contact it is about; None: the organisation as a whole
    topic: str | None = None  # the suggested topic if this is the main reason
    carried: bool = False  # an original reason of a rolled-over item: ranks as «перенесён»

    @property
    def tier(self) -> int:
        return TIER[ReasonCode.ROLLED_OVER] if self.carried else TIER[self.code]


@dataclass(slots=True)
class ClientHits:
    by_contact: dict[str, list[Hit]] = field(default_factory=dict)  # owed, about one person
    org: list[Hit] = field(default_factory=list)  # due: any contact of the organisation will do
    callback_at: dict[str, datetime] = field(default_factory=dict)  # promised slot, Expert's zone
    avoid_morning: dict[str, bool] = field(default_factory=dict)  # retry: the half to avoid

    def add(self, contact_id: str, hit: Hit) -> None:
        self.by_contact.setdefault(contact_id, []).append(hit)


@dataclass(frozen=True, slots=True)
class Scope:
    """What every rule needs: the day, the settings, the indexed inputs, the Expert's zone."""

    day: date
    rules: PlanRules
    calendar: WorkCalendar
    index: PortfolioIndex
    tz: ZoneInfo


def client_hits(scope: Scope, client: Client) -> ClientHits:
    hits = ClientHits()
    index, cid = scope.index, client.external_id
    # Most organisations have no callback, roll-over or signal: skip those rules cheaply.
    if cid in index.callbacks_by_client:
        _callbacks(scope, client, hits)
    if cid in index.rolled_by_client:
        _rolled_over(scope, client, hits)
    if cid in index.signals_by_client:
        _signals(scope, client, hits)
    _per_contact(scope, client, hits)
    _org_due(scope, client, hits)
    return hits


def campaign_hits(scope: Scope, client: Client, expert_login: str) -> ClientHits:
    """A campaign's client outside the Expert's portfolio: only her own promises and unfinished calls
    (the campaign's call itself is added by `transition_hit`); its other reasons are not hers."""
    hits = ClientHits()
    _callbacks(scope, client, hits, expert_login)
    _rolled_over(scope, client, hits, expert_login)
    return hits


def transition_hit(scope: Scope, transition: Transition) -> Hit | None:
    """Owed like a signal: from its day until a contact is made with the organisation on or after it."""
    since = transition.owed_from
    if since is None or since > scope.day:
        return None
    last = scope.index.org_last_contact.get(transition.client_external_id)
    if last is not None and last >= since:
        return None
    text = txt.transition_text(transition.status, since)
    return Hit(ReasonCode.TRANSITION, text, since, topic=txt.TOPIC_TRANSITION)


def _callbacks(scope: Scope, client: Client, hits: ClientHits, expert_login: str | None = None) -> None:
    index = scope.index
    for callback in index.callbacks_by_client.get(client.external_id, ()):
        if expert_login is not None and callback.expert_login != expert_login:
            continue
        contact = index.contact_by_id.get(callback.contact_external_id)
        local = callback.at.astimezone(scope.tz)
        if contact is None or contact.client_external_id != client.external_id or local.date() > scope.day:
            continue
        # Promised today: exactly then. Overdue: the same time of day, today.
        slot = local if local.date() == scope.day else datetime.combine(scope.day, local.time(), scope.tz)
        topic = callback.topic or txt.TOPIC_CALLBACK
        cid = contact.external_id
        hits.add(cid, Hit(ReasonCode.CALLBACK, txt.callback_text(local, scope.day), local.date(), cid, topic))
        if cid not in hits.callback_at or slot < hits.callback_at[cid]:
            hits.callback_at[cid] = slot


def _rolled_over(scope: Scope, client: Client, hits: ClientHits, expert_login: str | None = None) -> None:
    for item in scope.index.rolled_by_client.get(client.external_id, ()):
        if expert_login is not None and item.expert_login != expert_login:
            continue
        cid = item.contact_external_id
        from_day = item.slot.astimezone(scope.tz).date()
        hits.add(cid, Hit(ReasonCode.ROLLED_OVER, txt.rolled_over_text(from_day), from_day, cid, item.topic))
        for reason in item.reasons:
            if reason.code != ReasonCode.ROLLED_OVER:
                hits.add(cid, Hit(reason.code, reason.text, from_day, cid, carried=True))


def _signals(scope: Scope, client: Client, hits: ClientHits) -> None:
    index, rules = scope.index, scope.rules
    org_last = index.org_last_contact.get(client.external_id)
    for signal in index.signals_by_client.get(client.external_id, ()):
        if signal.kind not in rules.signal_kinds or signal.occurred_on > scope.day:
            continue
        contact = index.contact_by_id.get(signal.contact_external_id or "")
        topic = txt.SIGNAL_TOPICS[signal.kind]
        if contact is not None and contact.client_external_id == client.external_id:
            last = index.summary(contact.external_id).last_contact_on
            if last is None or signal.occurred_on > last:
                text = txt.signal_text(signal.kind, signal.occurred_on, signal.note, contact.full_name)
                cid = contact.external_id
                hits.add(cid, Hit(ReasonCode.SIGNAL, text, signal.occurred_on, cid, topic))
        elif org_last is None or signal.occurred_on > org_last:
            text = txt.signal_text(signal.kind, signal.occurred_on, signal.note, None)
            hits.org.append(Hit(ReasonCode.SIGNAL, text, signal.occurred_on, None, topic))


def _per_contact(scope: Scope, client: Client, hits: ClientHits) -> None:
    summaries = scope.index.summary_by_contact
    for contact in scope.index.contacts_by_client.get(client.external_id, ()):
        summary = summaries.get(contact.external_id)
        if summary is None:
            summary = ContactSummary(contact.external_id)
        elif summary.last_result == NOT_REACHED:
            retry = _retry(scope, summary)
            if retry is not None:
                hit, avoid_morning = retry
                hits.add(contact.external_id, hit)
                hits.avoid_morning[contact.external_id] = avoid_morning
        if contact.is_user:
            trained = _not_trained(scope, summary)
            if trained is not None:
                hits.org.append(trained)


def _retry(scope: Scope, summary: ContactSummary) -> tuple[Hit, bool] | None:
    """Not reached: due from the next working day on, while attempts are left."""
    rules = scope.rules
    last = summary.last_attempt_at
    if summary.last_result != NOT_REACHED or last is None:
        return None
    if summary.attempts_since_contact >= rules.retry_max_attempts:
        return None
    local = last.astimezone(scope.tz)
    if scope.day < scope.calendar.next_working_day(local.date()):
        return None
    attempt = max(summary.attempts_since_contact, 1) + 1
    text = txt.retry_text(local.date(), attempt, rules.retry_max_attempts)
    hit = Hit(ReasonCode.RETRY, text, local.date(), summary.contact_external_id, summary.last_topic)
    # Another time of day than last time: a morning miss is retried after lunch, and back.
    return hit, local.time() < rules.lunch_start


def _not_trained(scope: Scope, summary: ContactSummary) -> Hit | None:
    n = scope.rules.not_trained_days
    last = summary.last_contact_on
    if last is not None and (scope.day - last).days < n:
        return None
    days = None if last is None else (scope.day - last).days
    since = date.min if last is None else last + timedelta(days=n)
    return Hit(
        ReasonCode.NOT_TRAINED,
        txt.not_trained_text(days),
        since,
        summary.contact_external_id,
        txt.TOPIC_TRAINING,
    )


def _org_due(scope: Scope, client: Client, hits: ClientHits) -> None:
    last = scope.index.org_last_contact.get(client.external_id)
    found = (
        _cadence(scope, client, last),
        _not_logged_in(scope, client, last),
        _terms_ending(scope, client, last),
        _debt(scope, client, last),
    )
    hits.org.extend(hit for hit in found if hit is not None)


def cadence_days(scope: Scope, client: Client) -> int:
    return client.contact_every_days or scope.rules.cadence_days


def _cadence(scope: Scope, client: Client, last: date | None) -> Hit | None:
    every = cadence_days(scope, client)
    if last is None:
        return Hit(ReasonCode.CADENCE, txt.cadence_text(None), date.min, topic=txt.TOPIC_REVIEW)
    since = (scope.day - last).days
    if since < every:  # exactly `every` days is due: the edge belongs to today
        return None
    return Hit(
        ReasonCode.CADENCE, txt.cadence_text(since), last + timedelta(days=every), topic=txt.TOPIC_REVIEW
    )


def _not_logged_in(scope: Scope, client: Client, last: date | None) -> Hit | None:
    """Raised again every N days while there is neither a login nor a contact made."""
    if client.version != Version.ONLINE:
        return None
    login = client.online_last_login
    n = scope.rules.not_logged_in_days
    anchors = [d for d in (login, last) if d is not None]
    if anchors and (scope.day - max(anchors)).days < n:
        return None
    since = max(anchors) + timedelta(days=n) if anchors else date.min
    days = None if login is None else (scope.day - login).days
    return Hit(ReasonCode.NOT_LOGGED_IN, txt.not_logged_in_text(days), since, topic=txt.TOPIC_TRAINING)


def _terms_ending(scope: Scope, client: Client, last: date | None) -> Hit | None:
    """Once per ending: a contact made since the window opened has dealt with it."""
    end = client.terms_end
    n = scope.rules.terms_ending_days
    if end is None or not scope.day <= end <= scope.day + timedelta(days=n):
        return None
    opened = end - timedelta(days=n)
    if last is not None and last >= opened:
        return None
    return Hit(ReasonCode.TERMS_ENDING, txt.terms_text(end), opened, topic=txt.TOPIC_TERMS)


def _debt(scope: Scope, client: Client, last: date | None) -> Hit | None:
    rules = scope.rules
    if client.debt_rub <= rules.debt_threshold_rub:
        return None
    if last is not None and (scope.day - last).days < rules.debt_repeat_days:
        return None
    since = date.min if last is None else last + timedelta(days=rules.debt_repeat_days)
    return Hit(ReasonCode.DEBT, txt.debt_text(client.debt_rub), since, topic=txt.TOPIC_DEBT)


def fill_hit(scope: Scope, client: Client, last: date) -> Hit:
    """For an organisation not due yet: how soon it will be (the fill takes the soonest)."""
    every = cadence_days(scope, client)
    days_left = every - (scope.day - last).days
    return Hit(
        ReasonCode.FILL, txt.fill_text(days_left, last), last + timedelta(days=every), topic=txt.TOPIC_REVIEW
    )
