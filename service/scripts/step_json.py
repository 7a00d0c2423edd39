"""A step script as stored (JSON) and what changed between two versions, in Russian. Pure.

The stored JSON is written only by `dumps` from a checked script; `loads` still refuses anything that is not
the shape `dumps` writes (a hand-edited row), with a message saying what is wrong rather than a traceback.
"""

from __future__ import annotations

import json
from typing import Any

from service.scripts.steps import Branch, Step, StepScript
from texts.words import plural


class StoredScriptError(ValueError):
    """The stored JSON is not a step script (the message is Russian)."""


def dumps(script: StepScript) -> str:
    return json.dumps(as_dict(script), ensure_ascii=False, sort_keys=True)


def as_dict(script: StepScript) -> dict[str, Any]:
    return {"name": script.name, "steps": [_step_dict(step) for step in script.steps]}


def _step_dict(step: Step) -> dict[str, Any]:
    return {"key": step.key, "title": step.title, "text": step.text, "target_s": step.target_s,
            "login": step.login, "jinja": step.jinja,
            "branches": [{"when": branch.when, "to": branch.to} for branch in step.branches]}


def loads(text: str) -> StepScript:
    try:
        data = json.loads(text)
        return StepScript(str(data["name"]), tuple(_step(raw) for raw in data["steps"]))
    except (ValueError, KeyError, TypeError) as error:
        raise StoredScriptError(f"сохранённый сценарий повреждён: {error}") from error


def _step(raw: dict[str, Any]) -> Step:
    target = raw.get("target_s")
    return Step(key=str(raw["key"]), title=str(raw["title"]), text=str(raw["text"]),
                target_s=None if target is None else int(target), login=bool(raw.get("login")),
                jinja=bool(raw.get("jinja")),
                branches=tuple(Branch(str(b["when"]), str(b["to"])) for b in raw.get("branches") or ()))


def changes(before: StepScript | None, after: StepScript) -> list[str]:
    """What a new version changes, one Russian line each, in the new version's step order."""
    if before is None:
        return [f"первая версия: {len(after.steps)} {plural(len(after.steps), 'шаг', 'шага', 'шагов')}"]
    said: list[str] = []
    if before.name != after.name:
        said.append(f"название: «{before.name}» → «{after.name}»")
    old = {step.key: step for step in before.steps}
    new_keys = [step.key for step in after.steps]
    for step in after.steps:
        previous = old.get(step.key)
        if previous is None:
            said.append(f"добавлен шаг «{step.title}»")
        elif previous != step:
            said.append(f"шаг «{step.title}»: изменены {', '.join(_what_differs(previous, step))}")
    said += [f"удалён шаг «{step.title}»" for step in before.steps if step.key not in new_keys]
    kept_before = [key for key in (step.key for step in before.steps) if key in new_keys]
    if kept_before != [key for key in new_keys if key in old]:
        said.append("изменён порядок шагов")
    return said or ["без изменений"]


_FIELDS = (("title", "заголовок"), ("text", "текст"), ("target_s", "длительность"),
           ("login", "отметка «вход в систему»"), ("branches", "переходы"), ("jinja", "вид текста (Jinja2)"))


def _what_differs(before: Step, after: Step) -> list[str]:
    return [label for name, label in _FIELDS if getattr(before, name) != getattr(after, name)]

