"""One spelling of each product name (texts/glossary.py, templates/glossary.yaml; issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

import texts.glossary
from service.settings import Settings
from texts.glossary import GLOSSARY, canonical, variants

ROOT = Path(__file__).resolve().parents[2]
# Everything a user may read: templates (pages, scripts, catalog), the configuration, the code's texts.
WHERE_USERS_READ = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.j2"),
                    *ROOT.glob("templates/**/*.yaml"), ROOT / "config.yaml", *ROOT.glob("service/**/*.py"),
                    *ROOT.glob("scheduler/**/*.py"), *ROOT.glob("texts/**/*.py"), *ROOT.glob("service/web/static/*.js")]


def test_no_variant_is_written_anywhere_a_user_reads() -> None:
    found = [f"{path.relative_to(ROOT)}: «{variant}» (пишите «{spelling}»)"
             for path in WHERE_USERS_READ if path not in (GLOSSARY, Path(texts.glossary.__file__))
             for variant, spelling in variants().items() if variant in path.read_text(encoding="utf-8")]
    assert found == []


@pytest.mark.parametrize(("name", "expected"), [
    ("Комплект SMART", "СМАРТ-комплект"), ("Смарт-комплект", "СМАРТ-комплект"), ("СМАРТ-комплект", "СМАРТ-комплект"),
    ("  Комплект   SMART ", "СМАРТ-комплект"), ("Обучение", "Обучение"), ("Консультант Плюс", "КонсультантПлюс"),
])
def test_a_whole_name_is_read_in_the_one_spelling(name: str, expected: str) -> None:
    assert canonical(name) == expected


def test_an_old_configuration_offers_the_one_spelling() -> None:
    """Wrap-ups saved before keep the topic they were saved with (the call log filters by it)."""
    settings = Settings.model_validate({"desk": {"topics": ["Комплект SMART", "Обучение", "СМАРТ-комплект",
                                                            "Приглашение на семинар"]}})
    assert settings.desk.topics == ("СМАРТ-комплект", "Обучение", "Приглашение на семинар")
    # The КТУ's default fact topics keep only what this desk offers («Обучение нового пользователя» is not).
    assert settings.ktu.fact_topics.training == ("Обучение",)
