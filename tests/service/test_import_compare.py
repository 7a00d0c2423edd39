"""The comparison's imports (issue 17, item 1): trainings, СТ attendance, acts, requests, SendPulse campaign
reports and survey responses, through the real import on SQLite and PostgreSQL. The SendPulse and survey
files in tests/data/compare/ are written as those services export them (its README says where each
column name comes from)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from service.compare.survey import shares
from service.db.clients import ClientsRepository
from service.db.engine import SessionMaker
from service.db.models import Act, Client, ClientRequest, Mailing, SegmentChange, SeminarVisit, SurveyResponse, Training
from service.db.records import ClientRecord
from service.imports.errors import RowsRejected
from service.imports.runner import import_file
from service.imports.schemas import ImportContext
from service.settings import load_settings
from tests.service.test_import_month import write_table

DATA = Path(__file__).parents[1] / "data" / "compare"
NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)  # 02.04: the April campaigns are in the future
LATER = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SETTINGS = load_settings(Path(__file__).parents[2] / "config.yaml")
CONTEXT = ImportContext.of(SETTINGS, NOW)
SURVEY_CLIENTS = sorted(({row[2] for row in csv.reader((DATA / "survey-google-forms.csv").open(encoding="utf-8"))}
                         | {row[8] for row in csv.reader((DATA / "survey-surveymonkey.csv").open(encoding="utf-8"))})
                        - {"Код организации", "Custom Data 1", ""})
CLIENTS = [{"external_id": "C-501", "name": "ООО «Ромашка»", "segment": "ДС", "collection_completeness": "80 %"},
           {"external_id": "C-502", "name": "АО «Вектор»", "segment": "КС", "collection_completeness": "0,65"},
           *({"external_id": code, "name": f"Клиент {code}", "segment": "ДС"} for code in SURVEY_CLIENTS)]
CONTACTS = [{"external_id": "P-1", "client_external_id": "C-501", "full_name": "Иванова Ольга", "is_user": "да"},
            {"external_id": "P-2", "client_external_id": "C-502", "full_name": "Петров Сергей", "is_user": "да"}]


async def seed(sessions: SessionMaker, tmp_path: Path) -> None:
    for kind, rows in (("clients", CLIENTS), ("contacts", CONTACTS)):
        await import_file(kind, write_table(tmp_path, kind, rows), sessions, progress=False, context=CONTEXT)


async def imported(sessions: SessionMaker, kind: str, path: Path) -> tuple[int, int, int]:
    context = ImportContext.of(SETTINGS, LATER if kind == "mailings" else NOW)
    counts = (await import_file(kind, path, sessions, progress=False, context=context)).counts
    return counts.new, counts.updated, counts.unchanged


async def rejected(sessions: SessionMaker, kind: str, path: Path) -> list[str]:
    context = ImportContext.of(SETTINGS, LATER if kind == "mailings" else NOW)
    with pytest.raises(RowsRejected) as failed:
        await import_file(kind, path, sessions, progress=False, context=context)
    return [str(error) for error in failed.value.errors]


async def rows(sessions: SessionMaker, *columns: object) -> list[tuple[object, ...]]:
    async with sessions() as session:
        return [tuple(row) for row in await session.execute(select(*columns))]  # type: ignore[call-overload]


async def completeness(sessions: SessionMaker) -> list[tuple[object, ...]]:
    found = await rows(sessions, Client.external_id, Client.collection_completeness)
    return sorted((code, share) for code, share in found if str(code).startswith("C-"))


async def test_trainings_seminars_acts_and_requests_in_russian_and_again(db_sessions: SessionMaker,
                                                                         tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    trainings = write_table(tmp_path, "trainings", [
        {"Код клиента": "C-501", "Код контакта": "P-1", "Дата обучения": "03.03.2026", "Вид обучения": "первичное"},
        {"Код клиента": "C-502", "Код контакта": "P-2", "Дата обучения": "2026-03-20", "Вид обучения": ""}])
    seminars = write_table(tmp_path, "seminars", [
        {"Код клиента": "C-501", "Код контакта": "", "Дата": "12.03.2026", "Семинар": "НДС в 2026 году"}])
    acts = write_table(tmp_path, "acts", [
        {"Код клиента": "C-501", "Период": "март 2026", "Срок возврата": "10.04.2026", "Дата возврата": ""},
        {"Код клиента": "C-502", "Период": "2026-02", "Срок возврата": "10.03.2026", "Дата возврата": "12.03.2026"}])
    requests = write_table(tmp_path, "requests", [
        {"Код клиента": "C-501", "Канал": "Задать вопрос эксперту", "Дата и время": "03.03.2026 10:15"},
        {"Код клиента": "C-501", "Канал": "чат", "Дата и время": "2026-03-04T09:00:00+03:00"},
        {"Код клиента": "C-502", "Канал": "горячая линия", "Дата и время": "05.03.2026 16:40:12"}])
    for kind, path, new in (("trainings", trainings, 2), ("seminars", seminars, 1), ("acts", acts, 2),
                            ("requests", requests, 3)):
        assert await imported(db_sessions, kind, path) == (new, 0, 0)
        assert await imported(db_sessions, kind, path) == (0, 0, new)  # the same file again: nothing twice
    assert sorted(await rows(db_sessions, Training.contact_external_id, Training.day, Training.kind)) == [
        ("P-1", date(2026, 3, 3), "первичное"), ("P-2", date(2026, 3, 20), "")]
    assert await rows(db_sessions, SeminarVisit.contact_external_id, SeminarVisit.seminar) == [("", "НДС в 2026 году")]
    assert sorted(await rows(db_sessions, Act.period, Act.due_on, Act.returned_on)) == [
        (date(2026, 2, 1), date(2026, 3, 10), date(2026, 3, 12)), (date(2026, 3, 1), date(2026, 4, 10), None)]
    assert sorted(await rows(db_sessions, ClientRequest.channel, ClientRequest.created_at)) == [
        ("chat", datetime(2026, 3, 4, 6, 0, tzinfo=UTC)), ("hotline", datetime(2026, 3, 5, 13, 40, 12, tzinfo=UTC)),
        ("lk", datetime(2026, 3, 3, 7, 15, tzinfo=UTC))]
    # The act came back: the row is updated, not added.
    returned = write_table(tmp_path, "acts", [
        {"Код клиента": "C-501", "Период": "03.2026", "Срок возврата": "10.04.2026", "Дата возврата": "01.04.2026"}])
    assert await imported(db_sessions, "acts", returned) == (0, 1, 0)


async def test_bad_rows_of_the_comparison_imports_are_named_and_nothing_is_written(db_sessions: SessionMaker,
                                                                                   tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    trainings = write_table(tmp_path, "trainings", [
        {"client_external_id": "C-501", "contact_external_id": "P-2", "date": "2026-03-03"},
        {"client_external_id": "C-501", "contact_external_id": "P-1", "date": "2026-05-03"}])
    assert await rejected(db_sessions, "trainings", trainings) == [
        "строка 2, столбец «contact_external_id», значение «P-2»: это контакт клиента C-502, а не C-501",
        "строка 3, столбец «date», значение «2026-05-03»: в будущем (сегодня 02.04.2026): "
        "обучение — то, что уже прошло"]
    requests = write_table(tmp_path, "requests", [
        {"client_external_id": "C-599", "channel": "почта", "created_at": "03.03.2026 10:15"}])
    assert await rejected(db_sessions, "requests", requests) == [
        "строка 2, столбец «client_external_id», значение «C-599»: нет такого клиента (сначала импортируйте clients)",
        "строка 2, столбец «channel», значение «почта»: допустимо одно из: чат, ЛК, горячая линия (chat, lk, hotline)"]
    assert await rows(db_sessions, Training.id) == [] and await rows(db_sessions, ClientRequest.id) == []


async def test_sendpulse_reports_in_russian_and_english_give_the_same_campaigns(db_sessions: SessionMaker) -> None:
    assert await imported(db_sessions, "mailings", DATA / "sendpulse-campaigns-ru.csv") == (6, 0, 0)
    stored = sorted(await rows(db_sessions, Mailing.campaign, Mailing.sent_on, Mailing.audience, Mailing.kind,
                               Mailing.sent, Mailing.delivered, Mailing.opened, Mailing.clicked, Mailing.unsubscribed))
    assert stored[0] == ("Новости для бухгалтера, выпуск №5", date(2026, 3, 5), "Бухгалтеры", "news", 920, 905, 412,
                         138, 3)
    assert {row[3] for row in stored} == {"reviews", "news", "gk", "informational"}
    # The English interface's export of the same campaigns is the same rows: nothing new, nothing changed.
    assert await imported(db_sessions, "mailings", DATA / "sendpulse-campaigns-en.csv") == (0, 0, 6)


async def test_a_sendpulse_report_that_does_not_add_up_is_refused(db_sessions: SessionMaker) -> None:
    errors = await rejected(db_sessions, "mailings", DATA / "sendpulse-opened-gt-delivered.csv")
    assert len(errors) == 1
    assert ("столбец «Открыто» (opened), значение «455»: открыто (455) больше, чем доставлено (427): "
            "цифры отчёта не сходятся") in errors[0]
    assert await rows(db_sessions, Mailing.id) == []


async def test_a_campaign_no_rule_names_is_refused_rather_than_guessed(db_sessions: SessionMaker,
                                                                       tmp_path: Path) -> None:
    path = write_table(tmp_path, "mailings", [
        {"Название рассылки": "Поздравление с Новым годом", "Дата отправки": "29.12.2025 10:00", "Отправлено": "10",
         "Доставлено": "10", "Открыто": "5", "Переходы": "1"}])
    assert await rejected(db_sessions, "mailings", path) == [
        "строка 2, столбец «kind»: вид рассылки не указан: добавьте столбец «Вид рассылки» (обзоры, информационные, "
        "новости, ГК) или правило в config.yaml compare.mailing_kinds"]
    kinded = write_table(tmp_path, "mailings", [
        {"Название рассылки": "Поздравление с Новым годом", "Дата отправки": "29.12.2025 10:00", "Отправлено": "10",
         "Доставлено": "10", "Открыто": "5", "Переходы": "1", "Вид рассылки": "прочие"}])
    assert await imported(db_sessions, "mailings", kinded) == (1, 0, 0)


@pytest.mark.parametrize(("name", "respondents"), [("survey-google-forms.csv", 10), ("survey-surveymonkey.csv", 12)])
async def test_survey_exports_import_with_the_configured_questions(db_sessions: SessionMaker, tmp_path: Path,
                                                                   name: str, respondents: int) -> None:
    await seed(db_sessions, tmp_path)
    assert await imported(db_sessions, "survey", DATA / name) == (respondents, 0, 0)
    stored = await rows(db_sessions, SurveyResponse.respondent, SurveyResponse.answered_on, SurveyResponse.client_id,
                        SurveyResponse.answers)
    assert all(client_id is not None for _, _, client_id, _ in stored)
    assert {day for _, day, _, _ in stored} <= {date(2026, 3, d) for d in range(1, 32)}
    measured = shares([answers for *_, answers in stored], SETTINGS.compare.survey_mapping())  # type: ignore[misc]
    assert set(measured) == {"satisfied", "phone_convenient", "info_useful", "lk_rated", "lk_regular", "defend"}
    assert all(0 < ratio.whole <= respondents for ratio in measured.values())
    if name == "survey-surveymonkey.csv":  # one respondent skipped the ЛК rating: no answer, not a «no»
        assert measured["lk_rated"].whole == respondents - 1
        assert {respondent for respondent, *_ in stored} >= {"118400112301"}
    assert await imported(db_sessions, "survey", DATA / name) == (0, 0, respondents)


async def test_a_survey_without_a_mapped_question_or_with_a_respondent_twice_is_refused(
        db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    missing = await rejected(db_sessions, "survey", DATA / "survey-missing-column.csv")
    assert len(missing) == 1
    assert missing[0].startswith("строка 1, столбец «Вы регулярно пользуетесь Линией консультаций (ЛК)?»: нет "
                                 "обязательного столбца")
    twice = await rejected(db_sessions, "survey", DATA / "survey-duplicated-respondent.csv")
    assert len(twice) == 1 and "значение «belova@example.org»: повтор: тот же респондент, что в строке" in twice[0]
    assert await rows(db_sessions, SurveyResponse.id) == []


async def test_the_clients_import_records_a_segment_change_and_polnota_sbora(db_sessions: SessionMaker,
                                                                           tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    repo = ClientsRepository(db_sessions)
    # C-502 moves КС → ДС with the CRM's date; C-501 goes back from ДС to КС, seen on the import's day.
    await repo.upsert_clients([ClientRecord("C-502", "АО «Вектор»", "ДС", ds_since=date(2026, 3, 16)),
                               ClientRecord("C-501", "ООО «Ромашка»", "КС")], today=date(2026, 4, 2))
    await repo.upsert_clients([ClientRecord("C-501", "ООО «Ромашка»", "КС")], today=date(2026, 4, 3))  # no change
    async with db_sessions() as session:
        changes = sorted(tuple(row) for row in await session.execute(
            select(Client.external_id, SegmentChange.since, SegmentChange.segment, SegmentChange.previous)
            .join(Client, Client.id == SegmentChange.client_id)))
    assert changes == [
        ("C-501", date(2026, 4, 2), "КС", "ДС"), ("C-502", date(2026, 3, 16), "ДС", "КС")]
    # The records above leave it empty: the import sets what it is given.
    assert await completeness(db_sessions) == [("C-501", None), ("C-502", None)]


async def test_polnota_sbora_is_read_as_a_share(db_sessions: SessionMaker, tmp_path: Path) -> None:
    await seed(db_sessions, tmp_path)
    assert await completeness(db_sessions) == [("C-501", Decimal("0.8000")), ("C-502", Decimal("0.6500"))]
    bad = write_table(tmp_path, "clients", [{"external_id": "C-501", "name": "ООО «Ромашка»", "segment": "ДС",
                                             "Полнота сбора": "120 %"}])
    assert await rejected(db_sessions, "clients", bad) == [
        "строка 2, столбец «Полнота сбора» (collection_completeness), значение «120 %»: доля от 0 до 1: 0,8 или 80 %"]
