"""The satisfaction survey's six measures («Срез удовлетворенности ДС»): which question each is asked
by and which answers count as positive (config.yaml `compare.survey`), and each measure's share. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from service.compare.definitions import Ratio
from service.imports.aliases import normalise

MEASURES = ("satisfied", "phone_convenient", "info_useful", "lk_rated", "lk_regular", "defend")
MEASURE_LABELS = {
    "satisfied": "Довольны ДС",
    "phone_convenient": "Оценили удобство общения с Экспертом по ДС по телефону",
    "info_useful": "Информацию от специалиста считают полезной и необходимой",
    "lk_rated": "Высоко оценили профессионализм и работу сотрудников ЛК",
    "lk_regular": "Обращаются и будут обращаться на ЛК регулярно",
    "defend": "Готовы отстаивать необходимость СПС перед руководством",
}
# SurveyMonkey's export has a second header row under the questions: «Response», «Open-Ended Response»
# or an option's label under each question, and nothing under the respondent's own columns.
SURVEY_MARKS = frozenset(normalise(mark) for mark in ("Response", "Open-Ended Response", "Ответ",
                                                       "Открытый ответ", "Ответ в свободной форме"))


@dataclass(frozen=True, slots=True)
class SurveyQuestion:
    column: str  # the question's text: the export's column name
    positive: tuple[str, ...]  # the answers that count for the measure («Да», «Скорее да», «5»…)

    def counts(self, answer: str) -> bool:
        folded = normalise(answer)
        return any(folded == normalise(p) for p in self.positive)


SurveyMapping = Mapping[str, SurveyQuestion]  # measure → its question


def shares(answers: Iterable[Mapping[str, str]], mapping: SurveyMapping) -> dict[str, Ratio]:
    """Each mapped measure: respondents with a positive answer ÷ respondents who answered it."""
    positive = dict.fromkeys(mapping, 0)
    answered = dict.fromkeys(mapping, 0)
    for response in answers:
        for measure, question in mapping.items():
            answer = response.get(measure)
            if answer:
                answered[measure] += 1
                positive[measure] += question.counts(answer)
    return {measure: Ratio(positive[measure], answered[measure]) for measure in mapping}


# The presentation's survey as tests/data/compare/ writes it (its README); config.yaml repeats it.
DEFAULT_SURVEY: SurveyMapping = {
    "satisfied": SurveyQuestion("Вы удовлетворены дистанционным сервисным обслуживанием (ДС)?", ("Да", "Скорее да")),
    "phone_convenient": SurveyQuestion("Вам удобно общаться с Экспертом по телефону?", ("Да", "Скорее да")),
    "info_useful": SurveyQuestion("Информация, которую предоставляет специалист, полезна для вас?",
                                  ("Да", "Скорее да")),
    "lk_rated": SurveyQuestion("Оцените работу специалистов Линии консультаций (ЛК) по шкале от 1 до 5", ("4", "5")),
    "lk_regular": SurveyQuestion("Вы регулярно пользуетесь Линией консультаций (ЛК)?", ("Да", "Скорее да")),
    "defend": SurveyQuestion("Готовы ли вы отстаивать перед руководством необходимость справочной правовой системы?",
                             ("Да", "Скорее да")),
}
