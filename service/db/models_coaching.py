"""Coaching (issue 18, docs/coaching.md): step scripts and their published versions, the steps an Expert went
through on a call, scorecards and the calls scored with them, comments on a call's recording.

A published step-script version and a stored score are never changed in place: a new version (or a new score
replacing the scorer's old one in one transaction) is written instead, so what an Expert saw on a call and what
a scorer ticked stays as it was.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class StepScript(Base):
    """A step script a group lead edits; `draft` (JSON) is the working copy nobody on the desk sees.

    `catalog_file` is the catalog script (templates/scripts/catalog.yaml) whose topics it serves: once published,
    the desk shows it step by step instead of that file.
    """

    __tablename__ = "step_scripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    catalog_file: Mapped[str] = mapped_column(String(64), unique=True)
    draft: Mapped[str | None] = mapped_column(Text)
    draft_updated_at: Mapped[datetime | None]
    draft_author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class StepScriptVersion(Base):
    """One published version (1, 2, …); the highest number is what the desk shows."""

    __tablename__ = "step_script_versions"
    __table_args__ = (UniqueConstraint("script_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("step_scripts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the script as JSON (service/scripts/step_json.py)
    changes: Mapped[str] = mapped_column(Text)  # what changed against the previous version, in Russian
    rolled_back_to: Mapped[int | None] = mapped_column(Integer)  # the version number it restored
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class CallStep(Base):
    """The Expert moved to a step during a call, at `entered_at` (the server's clock).

    Keyed by the call's Linkedid (the ledger writes the call's row when it ends) and the desk's sequence number
    within the call, so a repeated request is written once.
    """

    __tablename__ = "call_steps"
    __table_args__ = (UniqueConstraint("linkedid", "seq"), Index("ix_call_steps_entered_at", "entered_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("step_script_versions.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime]


class Scorecard(Base):
    """One version of the scorecard (its items below); the newest is the one calls are scored with."""

    __tablename__ = "scorecards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ScorecardItem(Base):
    __tablename__ = "scorecard_items"
    __table_args__ = (UniqueConstraint("scorecard_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(Integer)


class CallScore(Base):
    """A scorer's score of a call: one per call and scorer (scoring again replaces it)."""

    __tablename__ = "call_scores"
    __table_args__ = (UniqueConstraint("call_id", "scorer_id"), Index("ix_call_scores_scored_at", "scored_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    scorer_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    scored_at: Mapped[datetime]
    score_pct: Mapped[float] = mapped_column(Float)  # weights of the items met ÷ all weights × 100


class CallScoreItem(Base):
    __tablename__ = "call_score_items"

    score_id: Mapped[int] = mapped_column(ForeignKey("call_scores.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scorecard_items.id", ondelete="CASCADE"), primary_key=True)
    met: Mapped[bool] = mapped_column(Boolean)


class RecordingComment(Base):
    """A comment at `at_s` seconds of a call's recording, or a reply to one (`parent_id`, same time).

    `seen_at` is when the call's Expert first opened it (set at once for her own comments and replies).
    """

    __tablename__ = "recording_comments"
    __table_args__ = (Index("ix_recording_comments_call_id", "call_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("recording_comments.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="SET NULL"))
    at_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime | None]
