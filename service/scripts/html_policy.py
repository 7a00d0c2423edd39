"""Which HTML a call script may produce: a small allowlist, enforced on every render. Pure.

A script is an HTML fragment written by a supervisor and shown inside the Expert's page. The
Content-Security-Policy stops it from running code, but not from navigating the page away
(`<meta http-equiv="refresh">`), posting a form elsewhere, loading a tracking image or framing
another site. So the rendered text keeps only the structure scripts are made of (docs/scripts.md):
headings, paragraphs, lists, emphasis, the `class` attribute the desk styles them by, `title`
and inert `data-*` marks.
Everything else is removed by ammonia (nh3) on the way out, and the editor refuses to save a
script that relies on it, naming what is not allowed.
"""

from __future__ import annotations

from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset({
    "section", "div", "span", "h3", "h4", "p", "ul", "ol", "li", "strong", "b", "em", "i", "u",
    "br", "hr", "small", "mark", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = frozenset({"class", "title"})
ALLOWED_ATTRIBUTE_PREFIX = "data-"  # data-* marks parts for the desk's tests and styles; inert
# Removed with their content, not just unwrapped: their text is code or markup, never words to say.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "textarea", "title", "noscript"})


def sanitize(html: str) -> str:
    """`html` with every tag and attribute outside the allowlist removed (their text kept)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={"*": set(ALLOWED_ATTRIBUTES)},
        generic_attribute_prefixes={ALLOWED_ATTRIBUTE_PREFIX},
        link_rel=None,
        strip_comments=True,
    )


def forbidden_markup(html: str) -> list[str]:
    """What `sanitize` would remove, e.g. ["<meta>", "<a>", "onclick="], in first-seen order."""
    finder = _ForbiddenFinder()
    finder.feed(html)
    finder.close()
    return finder.found


class _ForbiddenFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._note(f"<{tag}>")
        for name, _ in attrs:
            if name not in ALLOWED_ATTRIBUTES and not name.startswith(ALLOWED_ATTRIBUTE_PREFIX):
                self._note(f"{name}=")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        pass  # comments are dropped silently: they never show

    def _note(self, what: str) -> None:
        if what not in self.found:
            self.found.append(what)
