"""A СИО (role `sio`) reaches the selection for ДС and nothing else (issue 15): every other route of the
real app, every method, answers 403 «Нет доступа», and the start page leads to /selection."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from service.db.clients import ClientsRepository
from service.passwords import hash_password
from service.web.keys import CSRF_HEADER
from service.web.role_scope import SIO_ONLY_SELECTION, sio_may_open
from tests.security.conftest import Office
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, JSON_ACCEPT, session_csrf_token

REAL = {"client_id": "C-1", "linkedid": "L-1", "file": "general.j2", "id": "1", "login": "ivanova",
        "key": "news_review", "hook": "1", "external_id": "C-1", "name": "works-2026-03-02.csv"}
# The pages the brief names, each with the way a browser or a script reaches it.
NAMED = ("/desk", "/board", "/board/state", "/calls", "/calls/L-1", "/figures", "/figures.xlsx", "/admin/users",
         "/admin/scripts", "/imports", "/clients/C-1", "/clients/C-1/brief", "/clients?q=Ромашка", "/team", "/live")


async def sio_client(office: Office) -> TestClient:
    await office.users().add("sidorov", "Сидоров Пётр", "sio", None, hash_password(DEFAULT_PASSWORD))
    return await office.client("sidorov")


def real_paths(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every GET and POST route, path parameters filled with real values."""
    found = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path")
        if route.method in ("GET", "POST") and template:
            found.add((route.method, re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: REAL[m[1]], template)))
    return sorted(found)


async def test_a_sio_gets_403_on_every_page_but_the_selection(office: Office) -> None:
    client = await sio_client(office)
    token = await session_csrf_token(client)
    checked = []
    for method, path in real_paths(client):
        if sio_may_open(path) or path.startswith(("/static", "/healthz")):
            continue
        if path.startswith("/api/v1/") and path not in ("/api/v1/openapi.json", "/api/v1/docs"):
            # The API ignores the session: without a token it answers 401 whoever is signed in.
            response = await client.request(method, path, allow_redirects=False)
            assert response.status == 401, f"{method} {path}: {response.status}"
            continue
        if path in ("/api/v1/openapi.json", "/api/v1/docs"):
            continue  # the API's description, public like the login page
        for accept in (HTML_ACCEPT, JSON_ACCEPT):
            if method == "GET":
                response = await client.get(path, headers=accept, allow_redirects=False)
            else:
                response = await client.post(path, data={"client": "C-1", "q": "x"}, allow_redirects=False,
                                             headers={CSRF_HEADER: token, **accept})
            assert response.status == 403, f"{method} {path}: {response.status}"
            body = await response.text() if accept is HTML_ACCEPT else (await response.json())["error"]
            assert SIO_ONLY_SELECTION in body, f"{method} {path}"
        checked.append(path)
    assert {"/desk", "/board", "/calls", "/figures", "/admin/users", "/clients/C-1", "/imports"} <= set(checked)
    for path in NAMED:
        assert (await client.get(path, headers=HTML_ACCEPT, allow_redirects=False)).status == 403, path
    assert (await client.get("/session", headers=JSON_ACCEPT)).status == 200  # still signed in


async def test_a_sio_starts_on_the_selection_and_sees_only_its_link(office: Office) -> None:
    await ClientsRepository(office.sessions).upsert_client("C-9", "ООО «Гамма»")
    client = await sio_client(office)
    response = await client.get("/", headers=HTML_ACCEPT, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/selection")
    html = await (await client.get("/selection", headers=HTML_ACCEPT)).text()
    nav = html.split('<nav class="topnav">', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="([^"]+)"', nav) == ["/selection"]
    assert 'action="/clients"' not in nav  # the client search is not theirs either
    response = await client.post("/logout", data={"_csrf": await session_csrf_token(client)},
                                 allow_redirects=False)
    assert response.status == 302 and (await client.get("/session", headers=JSON_ACCEPT)).status == 401


async def test_the_other_roles_are_not_scoped(office: Office) -> None:
    for login, path in (("ivanova", "/desk"), ("smirnova", "/board"), ("root", "/admin/users")):
        client = await office.client(login)
        assert (await client.get(path, headers=HTML_ACCEPT)).status == 200, login
