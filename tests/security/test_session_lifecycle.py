"""Every way a session ends stays ended: the probe's F1 (a reactivated user's old cookie worked again).

Each test signs a user in, keeps a copy of the cookie, ends the session one way, undoes whatever
can be undone (reactivate, …) and replays the copied cookie: it must be refused every time.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from service.db.records import ExpertName
from service.passwords import hash_password
from service.web.keys import CSRF_FIELD
from tests.security.conftest import Office
from tests.service.web_helpers import DEFAULT_PASSWORD, HTML_ACCEPT, JSON_ACCEPT, sign_in


def cookies_of(client: TestClient) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client.session.cookie_jar}


async def replay(office: Office, cookies: dict[str, str]) -> int:
    """The status a fresh browser gets for /session with a copied cookie."""
    thief = await office.client()
    return (await thief.get("/session", headers=JSON_ACCEPT, cookies=cookies)).status


async def test_a_reactivated_user_does_not_get_the_old_session_back_via_the_admin_page(office: Office) -> None:
    pavel = await office.client("petrov")
    stolen = cookies_of(pavel)
    admin = await office.client("root")
    token = (await (await admin.get("/session", headers=JSON_ACCEPT)).json())["csrf_token"]
    petrov = await office.users().by_login("petrov")
    assert petrov is not None
    for active in ("0", "1"):
        response = await admin.post(f"/admin/users/{petrov.id}/active", data={CSRF_FIELD: token, "active": active},
                                    headers=HTML_ACCEPT, allow_redirects=False)
        assert response.status == 303
    assert await replay(office, stolen) == 401
    assert (await pavel.get("/session", headers=JSON_ACCEPT)).status == 401
    await sign_in(await office.client(), "petrov")  # he signs in afresh without trouble


async def test_a_reactivated_user_does_not_get_the_old_session_back_via_the_cli_path(office: Office) -> None:
    """`dsdesk users deactivate` (UsersRepository.deactivate), then an admin reactivates."""
    pavel = await office.client("petrov")
    stolen = cookies_of(pavel)
    assert await office.users().deactivate("petrov")
    petrov = await office.users().by_login("petrov")
    assert petrov is not None and petrov.signed_out_at is not None
    assert await office.users().set_active(petrov.id, True)
    assert await replay(office, stolen) == 401


async def test_a_password_set_back_does_not_revive_sessions(office: Office) -> None:
    maria = await office.client("ivanova")
    stolen = cookies_of(maria)
    await office.users().set_password_hash("ivanova", hash_password("another-password"))
    await office.users().set_password_hash("ivanova", hash_password(DEFAULT_PASSWORD))
    assert await replay(office, stolen) == 401


async def test_sign_out_ends_every_copy_and_a_new_sign_in_works(office: Office) -> None:
    maria = await office.client("ivanova")
    stolen = cookies_of(maria)
    token = (await (await maria.get("/session", headers=JSON_ACCEPT)).json())["csrf_token"]
    out = await maria.post("/logout", data={CSRF_FIELD: token}, headers=HTML_ACCEPT, allow_redirects=False)
    assert out.status == 302
    assert await replay(office, stolen) == 401
    fresh = await office.client("ivanova")
    assert (await fresh.get("/session", headers=JSON_ACCEPT)).status == 200
    assert await replay(office, stolen) == 401  # the new sign-in does not revive the old cookie


async def test_a_demoted_supervisor_loses_supervisor_pages_at_once(office: Office) -> None:
    olga = await office.client("smirnova")
    assert (await olga.get("/calls", headers=HTML_ACCEPT)).status == 200
    assert (await olga.get("/team", headers=HTML_ACCEPT, allow_redirects=False)).status == 200
    smirnova = await office.users().by_login("smirnova")
    assert smirnova is not None
    await office.users().update_account(smirnova.id, name=ExpertName("Смирнова", "Анна"), role="expert",
                                        extension="150", group_name=None)
    assert (await olga.get("/team", headers=HTML_ACCEPT, allow_redirects=False)).status == 403
