"""Wires the web side into the app: templates, sign-in and CSRF, the Expert's screen, the live channel."""

from __future__ import annotations

from aiohttp import web

from service.api.setup import setup_api
from service.client_search.views import setup_client_search
from service.compare.views import setup_compare
from service.exports.views import setup_exports
from service.ktu.views import setup_ktu
from service.month.views import setup_month
from service.visits.views import setup_visits
from service.web.admin_api import setup_admin_api
from service.web.admin_scripts import setup_admin_scripts
from service.web.admin_users import setup_admin_users
from service.web.auth import setup_auth, setup_login_flood_guard
from service.web.board import setup_board
from service.web.call_log import add_routes as add_call_log_routes
from service.web.call_steps import setup_call_steps
from service.web.desk import setup_desk
from service.web.figures import setup_figures
from service.web.imports import setup_imports
from service.web.input_guard import setup_input_guard
from service.web.live import setup_live
from service.web.recording_comments import setup_recording_comments
from service.web.role_scope import setup_role_scope
from service.web.scorecards import setup_scorecards
from service.web.security_headers import setup_security_headers
from service.web.selection import setup_selection
from service.web.step_scripts import setup_step_scripts
from service.web.templating import setup_templating
from service.web.what_works import setup_what_works
from service.webhooks.views import setup_webhooks_admin


def setup_web(app: web.Application) -> None:
    setup_templating(app)
    setup_security_headers(app)
    setup_auth(app)
    setup_input_guard(app)  # after setup_auth: it puts itself ahead of the session and auth checks
    setup_login_flood_guard(app)  # ahead of all: refusing a paused address must cost nothing
    setup_role_scope(app)  # after setup_auth (it needs the user): a СИО only reaches /selection
    setup_live(app)
    setup_desk(app)
    setup_board(app)
    setup_figures(app)
    add_call_log_routes(app)
    setup_client_search(app)
    setup_admin_scripts(app)
    setup_step_scripts(app)
    setup_call_steps(app)
    setup_what_works(app)
    setup_admin_users(app)
    setup_admin_api(app)
    setup_imports(app)  # its upload-size check goes ahead of the input guard
    setup_selection(app)
    setup_visits(app)
    setup_month(app)
    setup_compare(app)
    setup_exports(app)
    setup_ktu(app)
    setup_scorecards(app)
    setup_recording_comments(app)
    setup_webhooks_admin(app)
    setup_api(app)  # last: its problem middleware goes ahead of every other one
