"""A call script cannot freeze or bloat the service, nor navigate a page away (the probe's F2, F4).

The probe froze the whole service for 16 s with `{{ (((10**64)**64)**64)**64 }}`, 10 s with
`lipsum(40000)`, took 1.34 GB with three `'x'.ljust(300000000)`, and sent the desk to an outside
URL with `<meta http-equiv="refresh">`. Scripts now render in worker processes with a hard time
and memory limit, and their HTML is cut to an allowlist. Every test here has a wall-clock bound.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, date, datetime

import pytest
from aiohttp.test_utils import TestClient

from service.db.script_versions import ScriptVersionsRepository
from service.scripts import ScriptSource
from service.scripts.variables import sample_variables
from service.scripts.worker import ScriptRenderer
from service.web.keys import CSRF_HEADER
from tests.security.conftest import Office
from tests.service.web_helpers import HTML_ACCEPT, JSON_ACCEPT

HOSTILE = {
    "huge power": "{{ (((10**64)**64)**64)**64 }}",
    "huge product": "{% set n = 10**60 %}{{ n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n*n }}",
    "lipsum": "{{ lipsum(40000) }}",
    "ljust": "{{ 'x'.ljust(300000000) }}{{ 'x'.ljust(300000000) }}{{ 'x'.ljust(300000000) }}",
    "center filter": "{{ 'x'|center(300000000) }}",
    "format width": "{{ '%300000000d'|format(1) }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "replace bomb": "{{ ('x' * 10000)|replace('x', 'y' * 10000)|replace('y', 'zz') }}",
}
BOUND_S = 6.0  # the worker is killed after 3 s; a refused script answers in milliseconds


def peak_rss_mb() -> float:
    """This process's peak RSS since the last reset_peak_rss() (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> float:
    """Start a new peak (Linux: writing 5 to clear_refs resets VmHWM) and return the current RSS.

    ru_maxrss is the whole life's peak: once an earlier test had raised it (likely under xdist),
    a difference of peaks showed nothing whatever this test spent.
    """
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return peak_rss_mb()


async def csrf(client: TestClient) -> str:
    token: str = (await (await client.get("/session", headers=JSON_ACCEPT)).json())["csrf_token"]
    return token


async def desk_latency(client: TestClient) -> float:
    started = time.monotonic()
    response = await client.get("/desk", headers=HTML_ACCEPT)
    assert response.status == 200
    return time.monotonic() - started


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_a_hostile_preview_is_refused_quickly_and_the_desk_stays_quick(office: Office, name: str) -> None:
    olga = await office.client("smirnova")
    maria = await office.client("ivanova")
    await desk_latency(maria)  # warm: the desk's first render starts the worker processes
    rss_before = reset_peak_rss()
    started = time.monotonic()
    preview = asyncio.ensure_future(olga.post("/admin/scripts/general.j2/preview",
                                              data={"source": HOSTILE[name], "client": "C-1", "contact": "0"},
                                              headers={CSRF_HEADER: await csrf(olga)}))
    await asyncio.sleep(0.05)
    desk_s = await desk_latency(maria)  # while the hostile preview runs
    response = await preview
    elapsed = time.monotonic() - started
    text = await response.text()
    assert response.status == 422, text
    assert elapsed < BOUND_S, f"{name}: {elapsed:.1f} s"
    assert desk_s < 2.5, f"the desk waited {desk_s:.1f} s while {name} rendered"
    assert any(word in text for word in ("слишком", "недоступным", "памяти", "неизвестная переменная")), text
    assert peak_rss_mb() - rss_before < 150, "the script's memory was spent in the service's own process"


@pytest.mark.timeout(120)
async def test_a_hostile_script_saved_behind_a_branch_the_samples_skip_cannot_freeze_the_desk(office: Office) -> None:
    """The probe saved the freeze behind an {% if %} the save check's sample clients never take."""
    hostile = ("{% if client.name == 'ООО «Ромашка»' %}{{ '%300000000d'|format(1) }}"
               "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{% endif %}"
               "<p class=\"say\">Здравствуйте!</p>")
    await ScriptVersionsRepository(office.sessions).add("general.j2", hostile, None, datetime.now(UTC))
    maria = await office.client("ivanova")
    other = await office.client("petrov")
    started = time.monotonic()
    opened = [asyncio.ensure_future(maria.get("/clients/C-1", headers=HTML_ACCEPT)) for _ in range(3)]
    await asyncio.sleep(0.05)
    quick = time.monotonic()
    assert (await other.get("/clients/C-4", headers=HTML_ACCEPT)).status == 200  # his client renders fine
    assert time.monotonic() - quick < 3.0 + 1.0  # at most one worker-kill ahead of it in the queue
    pages = [await page for page in opened]
    assert time.monotonic() - started < 3 * BOUND_S
    for page in pages:
        assert page.status == 200
        assert "Сценари" in await page.text()


@pytest.mark.timeout(60)
async def test_a_render_over_the_hard_limit_is_killed_and_the_next_one_works() -> None:
    """With the in-worker budget out of reach (30 s), the 0.3 s hard limit kills the worker from outside."""
    renderer = ScriptRenderer(workers=1, timeout_s=0.3, budget_s=30.0)
    busy = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    variables = sample_variables(date(2026, 12, 7))
    try:
        assert (await renderer.render(ScriptSource("<p>разогрев</p>"), variables)).ok
        started = time.monotonic()
        killed = await renderer.render(ScriptSource(busy), variables)
        assert killed.error is not None and killed.error.kind == "too_long", killed
        assert "worker killed" in killed.error.detail
        assert time.monotonic() - started < 5.0
        after = await renderer.render(ScriptSource("<p>{{ client.name }}</p>"), variables)
        assert after.ok and "Северный берег" in str(after.html)
    finally:
        renderer.close()


@pytest.mark.timeout(60)
async def test_the_worker_memory_limit_holds_where_the_sandbox_checks_do_not_reach() -> None:
    renderer = ScriptRenderer(workers=1, memory_bytes=128 * 2**20)
    try:
        before = reset_peak_rss()
        result = await renderer.render(ScriptSource("{{ '%200000000d'|format(1) }}"),
                                       sample_variables(date(2026, 12, 7)))
        assert result.error is not None and result.error.kind == "too_big"
        assert "не хватило памяти" in result.error.message
        assert peak_rss_mb() - before < 50
    finally:
        renderer.close()


NAVIGATING = ('<meta http-equiv="refresh" content="0;url=http://evil.example/">'
              '<p class="say">Здравствуйте!</p><a href="http://evil.example/">жми</a>'
              '<form action="http://evil.example/"><button>ok</button></form>'
              '<img src="http://evil.example/pixel.gif"><iframe src="http://evil.example/"></iframe>'
              '<base href="http://evil.example/"><p onclick="x()" style="color:red">текст</p>')


@pytest.mark.timeout(60)
async def test_a_script_that_navigates_is_refused_on_save_and_in_the_preview(office: Office) -> None:
    olga = await office.client("smirnova")
    token = await csrf(olga)
    saved = await olga.post("/admin/scripts/general.j2", data={"source": NAVIGATING},
                            headers={CSRF_HEADER: token, **HTML_ACCEPT}, allow_redirects=False)
    text = await saved.text()
    assert saved.status == 422
    assert "недопустимый HTML" in text and "&lt;meta&gt;" in text
    assert await ScriptVersionsRepository(office.sessions).override_text("general.j2") is None
    preview = await olga.post("/admin/scripts/general.j2/preview", data={"source": NAVIGATING, "client": "C-1"},
                              headers={CSRF_HEADER: token})
    assert preview.status == 422 and "недопустимый HTML" in await preview.text()


@pytest.mark.timeout(60)
async def test_navigation_markup_stored_before_the_fix_never_reaches_the_desk(office: Office) -> None:
    await ScriptVersionsRepository(office.sessions).add("general.j2", NAVIGATING, None, datetime.now(UTC))
    maria = await office.client("ivanova")
    page = await (await maria.get("/clients/C-1", headers=HTML_ACCEPT)).text()
    assert "Здравствуйте!" in page and "текст" in page
    for marker in ("http-equiv", "evil.example", "<iframe", "<form action=\"http", "onclick", "<base "):
        assert marker not in page, marker


def render_workers() -> list[int]:
    """Pids of this process's script workers: children of its fork server (read from /proc)."""
    def parent(pid: str) -> int:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])

    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    servers = set()
    for pid in pids:
        try:
            if parent(pid) == os.getpid() and b"forkserver" in open(f"/proc/{pid}/cmdline", "rb").read():
                servers.add(int(pid))
        except OSError:
            continue
    workers = []
    for pid in pids:
        try:
            if parent(pid) in servers:
                workers.append(int(pid))
        except OSError:
            continue
    return workers


@pytest.mark.timeout(60)
async def test_a_worker_killed_from_outside_while_idle_does_not_stop_later_renders() -> None:
    """Found in review: an idle worker killed (the OOM killer, an operator) left pebble's pool broken
    and every later render raised, so every desk page answered 500 until a restart."""
    renderer = ScriptRenderer(workers=1)
    variables = sample_variables(date(2026, 12, 7))
    try:
        assert (await renderer.render(ScriptSource("<p>раз</p>"), variables)).ok
        before = render_workers()
        assert before
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        for attempt in range(3):
            result = await renderer.render(ScriptSource(f"<p>{{{{ client.name }}}} {attempt}</p>"), variables)
            assert result.ok, result.error
        assert not set(before) & set(render_workers())
    finally:
        renderer.close()


@pytest.mark.timeout(60)
async def test_a_script_stopped_for_time_is_suspended_then_tried_again() -> None:
    now = [1000.0]
    renderer = ScriptRenderer(workers=1, clock=lambda: now[0])
    slow = ScriptSource("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "x.j2")
    variables = sample_variables(date(2026, 12, 7))
    try:
        first = await renderer.render(slow, variables)
        assert first.error is not None and first.error.kind == "too_long"
        started = time.monotonic()
        again = await renderer.render(slow, variables)
        assert time.monotonic() - started < 0.1  # not run: shown at once
        assert again.error is not None and "приостановлен на 10 минут" in again.error.message
        fixed = await renderer.render(ScriptSource("<p>исправлено</p>", "x.j2"), variables)
        assert fixed.ok  # a new text is a new script
        now[0] += 601
        started = time.monotonic()
        assert (await renderer.render(slow, variables)).error is not None
        assert time.monotonic() - started >= 0.9  # run again after the pause
    finally:
        renderer.close()


def test_a_script_cannot_dress_an_element_up_as_a_desk_control() -> None:
    """Found in review: `<div class="call-contact" data-contact="X">` made any click in the script
    panel dial X through the desk's delegated handler; fake `.queue .row`s broke «next»."""
    from service.scripts.html_policy import forbidden_markup, sanitize

    hostile = ('<div class="call-contact" data-contact="C-9">Нажмите</div>'
               '<ul class="queue"><li class="row" data-item="PC-1">x</li></ul>'
               '<p class="say script-note" data-mark="m">Здравствуйте</p>')
    clean = sanitize(hostile)
    assert "call-contact" not in clean and "data-contact" not in clean and "data-item" not in clean
    assert 'class="queue"' not in clean and 'class="row"' not in clean
    assert '<p class="say script-note" data-mark="m">Здравствуйте</p>' in clean
    assert forbidden_markup(hostile)[:2] == ['class="call-contact"', "data-contact="]


@pytest.mark.timeout(60)
async def test_no_render_waits_longer_than_its_bound() -> None:
    """Queueing and running together are bounded by wait_s: a page shows an error, never hangs."""
    renderer = ScriptRenderer(workers=1, timeout_s=30.0, wait_s=0.5, budget_s=30.0)
    busy = ScriptSource("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "busy.j2")
    variables = sample_variables(date(2026, 12, 7))
    try:
        assert (await renderer.render(ScriptSource("<p>разогрев</p>"), variables)).ok
        started = time.monotonic()
        held = await renderer.render(busy, variables)
        assert time.monotonic() - started < 2.0
        assert held.error is not None and "занят" in held.error.message
        assert (await renderer.render(ScriptSource("<p>после</p>"), variables)).ok  # the worker was replaced
    finally:
        renderer.close()
