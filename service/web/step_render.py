"""A step script's steps filled for one call: the desk's step view and the editor's preview share it.

Plain steps are filled here (service/scripts/steps.py `render_step`, escaped); a Jinja2 step goes through the
scripts' sandboxed worker like any script, and its error stays on that step instead of blanking the script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from service.scripts import ScriptSource
from service.scripts.steps import Step, StepScript, render_step
from service.scripts.worker import ScriptRenderer


@dataclass(frozen=True, slots=True)
class RenderedStep:
    step: Step
    html: Markup | None
    error: str | None  # Russian, naming the step

    @property
    def target_text(self) -> str:
        seconds = self.step.target_s
        return "" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}"


async def render_steps(renderer: ScriptRenderer, script: StepScript, variables: dict[str, Any], *,
                       preview: bool = False) -> list[RenderedStep]:
    return [await _render(renderer, script, step, variables, preview) for step in script.steps]


async def _render(renderer: ScriptRenderer, script: StepScript, step: Step, variables: dict[str, Any],
                  preview: bool) -> RenderedStep:
    if not step.jinja:
        return RenderedStep(step, Markup(render_step(step, variables).replace("\n", "<br>")), None)
    source = ScriptSource(step.text, name=f"{script.name}, шаг «{step.key}»")
    rendered = await (renderer.preview(source, variables) if preview else renderer.render(source, variables))
    if rendered.error is not None:
        return RenderedStep(step, None, f"шаг «{step.key}»: {rendered.error.message}")
    return RenderedStep(step, rendered.html, None)
