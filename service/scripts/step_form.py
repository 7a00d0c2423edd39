"""The step-script editor's form read into a script, and the editor's buttons applied to it. Pure.

Fields per step row i: key-i, title-i, text-i, target-i («1:30» or seconds, empty: no target), login-i and jinja-i
(checkboxes), branches-i (one branch per line: «клиент занят → callback»). Rows are read in the order of their
numbers; what cannot be read (a target that is not a time, a branch line without an arrow) is a problem naming
the step, and the rest of the form is kept as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from service.digits import small_int
from service.scripts.steps import Branch, Step, StepProblem, StepScript

ROW = re.compile(r"key-([0-9]{1,3})")
ARROW = re.compile(r"\s*(?:→|->|=>)\s*")
TIME = re.compile(r"(?:([0-9]{1,2}):)?([0-9]{1,4})")
MAX_ROWS = 200


def read_form(form: Mapping[str, str]) -> tuple[StepScript, list[StepProblem]]:
    """The script as typed and the problems of reading it (not yet `steps.problems`: both are shown).

    A step without a key gets one made from its title, and a branch may name its step by title («клиент занят →
    Перезвонить»): group leads think in titles, the keys only keep branches pointing right when titles change.
    """
    rows = sorted({int(match.group(1)) for name in form if (match := ROW.fullmatch(name))})[:MAX_ROWS]
    found: list[StepProblem] = []
    steps = []
    for place, row in enumerate(rows, start=1):
        step, step_problems = _read_step(form, row, place)
        steps.append(step)
        found += step_problems
    steps = _branches_by_key(_keys_from_titles(steps))
    return StepScript(form.get("name", "").strip(), tuple(steps)), found


def _read_step(form: Mapping[str, str], row: int, place: int) -> tuple[Step, list[StepProblem]]:
    key = form.get(f"key-{row}", "").strip()
    title = form.get(f"title-{row}", "").strip()
    target_s, target_problem = parse_target(form.get(f"target-{row}", ""))
    branches, branch_problems = parse_branches(form.get(f"branches-{row}", ""))
    step = Step(key=key, title=title, text=form.get(f"text-{row}", "").replace("\r\n", "\n").strip(),
                target_s=target_s, login=f"login-{row}" in form, jinja=f"jinja-{row}" in form, branches=branches)
    messages = ([target_problem] if target_problem else []) + branch_problems
    return step, [StepProblem(key or title or "?", message, place, title) for message in messages]


def key_from_title(title: str) -> str:
    """«Следующий контакт» → «следующий-контакт» (letters and digits kept, the rest made dashes)."""
    return "-".join(re.findall(r"[a-zа-яё0-9]+", title.casefold()))[:40].strip("-")


def _keys_from_titles(steps: list[Step]) -> list[Step]:
    taken = {step.key for step in steps if step.key}
    keyed = []
    for step in steps:
        if not step.key and step.title:
            base = key_from_title(step.title) or "шаг"
            key = next(candidate for n in range(1, len(steps) + 2)
                       if (candidate := base if n == 1 else f"{base[:37]}-{n}") not in taken)
            taken.add(key)
            step = replace(step, key=key)
        keyed.append(step)
    return keyed


def _branches_by_key(steps: list[Step]) -> list[Step]:
    """A branch naming a step by its key or its title (any case) leads to that step's key; anything else stays as
    typed (and `steps.problems` names it)."""
    keys = {step.key for step in steps}
    by_title: dict[str, list[str]] = {}
    for step in steps:
        by_title.setdefault(step.title.casefold(), []).append(step.key)

    folded_keys = {key.casefold(): key for key in keys}

    def target(to: str) -> str:
        if to in keys:
            return to
        if to.casefold() in folded_keys:
            return folded_keys[to.casefold()]
        named = by_title.get(to.casefold(), [])
        return named[0] if len(named) == 1 else to  # two steps titled alike: only the key tells them apart

    return [replace(step, branches=tuple(Branch(b.when, target(b.to)) if b.to else b for b in step.branches))
            for step in steps]


def parse_target(text: str) -> tuple[int | None, str | None]:
    """«1:30» or «90» → 90 s; empty → no target; anything else → a Russian problem."""
    text = text.strip()
    if not text:
        return None, None
    match = TIME.fullmatch(text)
    if match is None or (match.group(1) is not None and int(match.group(2)) >= 60):
        return None, f"длительность «{text}» — не время: напишите минуты и секунды, например 1:30"
    return int(match.group(1) or 0) * 60 + int(match.group(2)), None


def parse_branches(text: str) -> tuple[tuple[Branch, ...], list[str]]:
    branches: list[Branch] = []
    found: list[str] = []
    for line in (line.strip() for line in text.replace("\r\n", "\n").split("\n")):
        if not line:
            continue
        parts = ARROW.split(line)
        # A line without an arrow is kept (to: empty) so the draft loses nothing; steps.problems names it.
        branches.append(Branch(parts[0].strip(), parts[1].strip()) if len(parts) == 2 else Branch(line, ""))
    return tuple(branches), found


def target_text(seconds: int | None) -> str:
    return "" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}"


def branches_text(step: Step, script: StepScript | None = None) -> str:
    """The branches as the editor shows them: each leading to its step's title when the titles tell steps apart."""
    titles = [other.title for other in script.steps] if script else []
    by_key = {other.key: other.title for other in script.steps} if script else {}

    def shown(to: str) -> str:
        title = by_key.get(to, "")
        return title if title and titles.count(title) == 1 else to

    return "\n".join(f"{branch.when} → {shown(branch.to)}" if branch.to else branch.when for branch in step.branches)


def apply_op(script: StepScript, op: str) -> StepScript:
    """The editor's buttons: «add», «up:i», «down:i», «delete:i» (i: the step's place); anything else: as is."""
    steps = list(script.steps)
    name, _, place = op.partition(":")
    if name == "add":
        steps.append(Step(key="", title="", text=""))  # its key is made from the title it is given
    elif (i := small_int(place, 4)) is not None and i < len(steps):
        if name == "delete":
            del steps[i]
        elif name == "up" and i > 0:
            steps[i - 1], steps[i] = steps[i], steps[i - 1]
        elif name == "down" and i + 1 < len(steps):
            steps[i + 1], steps[i] = steps[i], steps[i + 1]
    return replace(script, steps=tuple(steps))

