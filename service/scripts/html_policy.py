"""Which HTML a call script may produce: a small allowlist, enforced on every render. Pure.

A script is an HTML fragment written by a supervisor and shown inside the Expert's page. The
Content-Security-Policy stops it from running code, but not from navigating the page away
(`<meta http-equiv="refresh">`), posting a form elsewhere, loading a tracking image or framing
another site. So the rendered text keeps only the structure scripts are made of (docs/scripts.md):
headings, paragraphs, lists, emphasis, the script classes the desk styles them by
(`say`, `hint`, `ask`, `alert`, `script-…`), `title` and an inert `data-mark`.
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
ALLOWED_ATTRIBUTES = frozenset({"class", "title", "data-mark"})  # data-mark: a marker for tests, inert
# The classes the desk styles scripts by (docs/scripts.md). Only these: a script must not dress an
# element up as one of the page's own controls (`call-contact` dials, `.queue .row` is the queue).
SCRIPT_CLASSES = frozenset({"say", "hint", "ask", "alert"})
SCRIPT_CLASS_PREFIX = "script-"
# Removed with their content, not just unwrapped: their text is code or markup, never words to say.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "textarea", "title", "noscript"})


def sanitize(html: str) -> str:
    """`html` with every tag and attribute outside the allowlist removed (their text kept)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={"*": set(ALLOWED_ATTRIBUTES)},
        attribute_filter=_only_script_classes,
        link_rel=None,
        strip_comments=True,
    )


def is_script_class(name: str) -> bool:
    return name in SCRIPT_CLASSES or (name.startswith(SCRIPT_CLASS_PREFIX) and len(name) > len(SCRIPT_CLASS_PREFIX))


def _only_script_classes(tag: str, attribute: str, value: str) -> str | None:
    if attribute != "class":
        return value
    kept = " ".join(name for name in value.split() if is_script_class(name))
    return kept or None


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
        for name, value in attrs:
            if name not in ALLOWED_ATTRIBUTES:
                self._note(f"{name}=")
            elif name == "class":
                for cls in (value or "").split():
                    if not is_script_class(cls):
                        self._note(f'class="{cls}"')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        pass  # comments are dropped silently: they never show

    def _note(self, what: str) -> None:
        if what not in self.found:
            self.found.append(what)
