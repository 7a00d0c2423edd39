"""The script catalog (templates/scripts/catalog.yaml): which script serves which topic (инфоповод)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from service.scripts.errors import CatalogError
from service.scripts.sandbox import SCRIPT_NAME, SCRIPTS_DIR

CATALOG_NAME = "catalog.yaml"
_ENTRY_KEYS = frozenset({"file", "title", "topics", "default"})


@dataclass(frozen=True, slots=True)
class ScriptEntry:
    file: str  # a flat `name.j2` in templates/scripts/
    title: str  # Russian, shown above the script
    topics: tuple[str, ...]
    default: bool = False  # used when no script lists the planned topic


def topic_key(topic: str) -> str:
    """Topics match exactly, up to case and spacing (a hand-edited config.yaml may differ there)."""
    return " ".join(topic.split()).casefold()


class ScriptCatalog:
    """Validated entries: existing files, exactly one default, each topic served by one script."""

    def __init__(self, entries: tuple[ScriptEntry, ...]) -> None:
        _check_one_default(entries)
        self._entries = entries
        self._default = next(entry for entry in entries if entry.default)
        self._by_topic = _index_topics(entries)

    @classmethod
    def load(cls, scripts_dir: Path = SCRIPTS_DIR) -> ScriptCatalog:
        """Read `scripts_dir/catalog.yaml`; CatalogError names the file and the entry at fault."""
        path = scripts_dir / CATALOG_NAME
        raw = _read_entries(path)
        entries = tuple(_parse_entry(raw_entry, number, path) for number, raw_entry in enumerate(raw, 1))
        for entry in entries:
            if not (scripts_dir / entry.file).is_file():
                raise CatalogError(f"{path}: script {entry.file!r} ({entry.title}) does not exist")
        try:
            return cls(entries)
        except CatalogError as e:
            raise CatalogError(f"{path}: {e}") from e

    def for_topic(self, topic: str | None) -> ScriptEntry:
        """The script listing `topic`; the default one for None or a topic no script lists."""
        if topic is None:
            return self._default
        return self._by_topic.get(topic_key(topic), self._default)

    def entries(self) -> tuple[ScriptEntry, ...]:
        return self._entries

    @property
    def default(self) -> ScriptEntry:
        return self._default

    def by_file(self, file: str) -> ScriptEntry | None:
        return next((entry for entry in self._entries if entry.file == file), None)

    def serves(self, topic: str) -> bool:
        """Whether some script lists `topic` (rather than it falling to the default)."""
        return topic_key(topic) in self._by_topic


def _check_one_default(entries: tuple[ScriptEntry, ...]) -> None:
    defaults = [entry.file for entry in entries if entry.default]
    if len(defaults) != 1:
        raise CatalogError(f"exactly one script must have `default: true`, found {defaults or 'none'}")


def _index_topics(entries: tuple[ScriptEntry, ...]) -> dict[str, ScriptEntry]:
    by_topic: dict[str, ScriptEntry] = {}
    for entry in entries:
        for topic in entry.topics:
            other = by_topic.setdefault(topic_key(topic), entry)
            if other is not entry:
                raise CatalogError(f"topic {topic!r} is listed by both {other.file!r} and {entry.file!r}")
    return by_topic


def _read_entries(path: Path) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise CatalogError(f"{path}: cannot read: {e}") from e
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, list) or not scripts:
        raise CatalogError(f"{path}: expected a mapping with a non-empty list `scripts`")
    return scripts


def _parse_entry(raw: Any, number: int, path: Path) -> ScriptEntry:
    where = f"{path}: scripts[{number}]"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected a mapping with file, title, topics")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {unknown}; known: {sorted(_ENTRY_KEYS)}")
    file, title, topics = raw.get("file"), raw.get("title"), raw.get("topics", [])
    if not isinstance(file, str) or not SCRIPT_NAME.fullmatch(file):
        raise CatalogError(f"{where}: `file` must be a flat name like news_review.j2, got {file!r}")
    if not isinstance(title, str) or not title.strip():
        raise CatalogError(f"{where} ({file}): `title` is required")
    if not isinstance(topics, list) or not all(isinstance(t, str) and t.strip() for t in topics):
        raise CatalogError(f"{where} ({file}): `topics` must be a list of non-empty strings")
    if not isinstance(raw.get("default", False), bool):
        raise CatalogError(f"{where} ({file}): `default` must be true or false")
    return ScriptEntry(file=file, title=title.strip(), topics=tuple(t.strip() for t in topics),
                       default=raw.get("default", False))
