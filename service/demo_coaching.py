"""The demo's step scripts (issue 18): the department's «Речевой ролик» (its presentation's text) and the news
review, published as a group lead would; and the steps the demo Experts went through on their past calls, so
«Что работает в сценариях» has figures on the first start. Only the demo department's data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from service.db.engine import SessionMaker
from service.db.step_scripts import StepScriptsRepository
from service.scripts.steps import Branch, Step, StepScript, problems

SPEECH = StepScript("Речевой ролик — переход на дистанционный сервис", (
    Step("greeting", "Приветствие",
         "Здравствуйте, {ИО контакта}! Это {Имя эксперта}, КонсультантПлюс, ваш сервисный специалист. "
         "Я звоню с новостью о том, как мы будем работать с вами дальше, — это займёт несколько минут.",
         target_s=30, branches=(Branch("клиент говорит, что занят", "callback"),)),
    Step("news", "Новая система сопровождения",
         "{ИО контакта}, хочу проинформировать вас о том, что мы переходим на Новую систему сопровождения — "
         "дистанционный сервис. Современные средства коммуникаций позволяют сделать нашу с вами работу более "
         "эффективной и комфортной.", target_s=60),
    Step("kept", "Что сохраняется",
         "Все привычные вам сервисные услуги будут сохранены, за вами так же будет закреплён персональный "
         "сервисный специалист — это я, {Имя эксперта}. Мы просто перенесём нашу работу в плоскость интернета "
         "и телефона.", target_s=90, branches=(Branch("клиенту удобнее визиты специалиста", "objections"),)),
    Step("offer", "Предложение: СМАРТ-комплект",
         "В связи с переходом на Новую систему сопровождения компания КонсультантПлюс разработала новые "
         "СМАРТ-комплекты, которые работают в онлайн-технологиях. Мы подготовили для вас предложение по переходу "
         "с обычного комплекта на современный СМАРТ-комплект: {Предложение}.", target_s=120,
         branches=(Branch("клиент отказывается", "objections"),)),
    Step("login", "Заход в систему",
         "Давайте прямо сейчас проверим, что у вас всё открывается: откройте, пожалуйста, систему — я покажу, "
         "где задать вопрос эксперту и где смотреть новости.", target_s=240, login=True),
    Step("next", "Следующий контакт",
         "Итак, вы на дистанционном сервисе, ваш специалист — я, {Имя эксперта}. Предложение пришлю письменно. "
         "Давайте договоримся, когда я позвоню в следующий раз.", target_s=60),
    Step("objections", "Возражения",
         "«Нам удобнее, когда специалист приезжает» — «Всё, что делал специалист на месте, я сделаю по телефону "
         "и через интернет, причём быстрее: не нужно ждать визита.»\n«Мы не успеваем разбираться сами» — "
         "«Поэтому я и буду звонить: каждый раз покажу то, что нужно именно вам, за 10 минут.»",
         branches=(Branch("клиент согласен послушать", "offer"), Branch("клиент согласен зайти", "login"))),
    Step("callback", "Перезвонить",
         "Понимаю, {ИО контакта}. Когда вам удобно, чтобы мы созвонились? Запишу и позвоню точно в это время."),
))

NEWS = StepScript("Обзор новостей и изменений", (
    Step("greeting", "Приветствие",
         "Здравствуйте, {ИО контакта}! Это {Имя эксперта}, КонсультантПлюс. Я звоню рассказать о важных изменениях, "
         "которые касаются вашей работы, и показать, где о них прочитать в системе.", target_s=30,
         branches=(Branch("клиент говорит, что занят", "callback"),)),
    Step("news", "Новости",
         "Первое, что хочу рассказать: … (новость коротко: что изменилось, с какой даты, кого касается). "
         "Вас это уже коснулось? Как вы сейчас это делаете?", target_s=150),
    Step("login", "Заход в систему",
         "На стартовой странице есть обзоры и новости — давайте вместе откроем первую новость и посмотрим, что из неё "
         "следует для вас.", target_s=240, login=True),
    Step("show", "Показать в системе",
         "Наберите в строке Быстрого поиска … — видите документ первым в списке? Сохраните его в «Избранное».",
         target_s=180),
    Step("questions", "Вопросы", "Какие вопросы у вас сейчас в работе? Давайте найдём ответ вместе.", target_s=120),
    Step("next", "Следующий контакт", "Давайте договоримся, когда я позвоню в следующий раз.", target_s=60),
    Step("callback", "Перезвонить", "Когда вам удобно, чтобы мы созвонились?"),
))

DEMO_SCRIPTS = (("transition_ds", "transition_ds.j2", SPEECH), ("news_review", "news_review.j2", NEWS))


async def seed_demo_step_scripts(sessions: SessionMaker, now: datetime) -> None:
    """Publishes the demo step scripts (each checked like the editor checks it) unless they exist."""
    repo = StepScriptsRepository(sessions)
    for key, catalog_file, script in DEMO_SCRIPTS:
        assert not problems(script), problems(script)  # shipped text: a test keeps it sound
        if await repo.create(key, catalog_file, script, None, now):
            row = await repo.by_key(key)
            if row is not None:
                await repo.publish(row.id, script, None, now)


def demo_call_steps(script: StepScript, answered_at: datetime, talk_s: float,
                    rng: random.Random) -> list[tuple[str, datetime]]:
    """The steps a demo Expert went through on an answered call: in order, each taking about its target, until
    the talk ran out — so short calls stop before the login step, as the department's real ones do."""
    moves: list[tuple[str, datetime]] = []
    at = answered_at
    end = answered_at + timedelta(seconds=talk_s)
    for step in (step for step in script.steps if step.key not in ("objections", "callback")):
        if at >= end:
            break
        moves.append((step.key, at))
        at += timedelta(seconds=(step.target_s or 60) * rng.uniform(0.5, 1.6))
    return moves
