"""Security headers on every response: above all a Content-Security-Policy.

Scripts shown to Experts are edited by supervisors in the browser; the sandbox escapes what a
script prints, but the script's own text is HTML. The policy makes sure such HTML can never run
code: only DS Desk's own script files execute (no inline scripts, no event-handler attributes,
nothing from another site), and no page can be framed by another site.
"""

from __future__ import annotations

from aiohttp import web

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # width of a progress bar; styles cannot run code
    "img-src 'self' data:",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def setup_security_headers(app: web.Application) -> None:
    app.on_response_prepare.append(_add_headers)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
