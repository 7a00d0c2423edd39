"""The control figures' summary tables (migration 0009; kept by service/db/figures_summary.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base


class FiguresDaily(Base):
    """One Expert's control-figure counts for one organisation-time day (DayAggregate, stored).

    A summary of calls (by owner, `calls.expert_id`), wrap-ups and planned items, so a month
    reads ~22,000 rows instead of ~440,000 calls. Rebuilt a whole day at a time, never edited.
    """

    __tablename__ = "figures_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True)
    planned: Mapped[int] = mapped_column(Integer)
    finished: Mapped[int] = mapped_column(Integer)
    calls: Mapped[int] = mapped_column(Integer)
    made: Mapped[int] = mapped_column(Integer)
    unplanned: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[int] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer)
    productive: Mapped[int] = mapped_column(Integer)
    productive_talk_s: Mapped[float] = mapped_column(Float)
    logged_in: Mapped[int] = mapped_column(Integer)
    guessed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # migration 0010
    login_measured: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # migration 0011
    login_disagree: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Time in state (migration 0015): seconds talking, on a call at all, in wrap-up.
    talk_total_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    on_call_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    wrapup_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class FiguresCount(Base):
    """Calls of one Expert and day by wrap-up topic (`kind` topic) or PBX outcome (`kind` outcome).

    `key` None: no topic given, or the call is still up. No unique key (None is not equal to None
    in one): a day's rows are only ever deleted and inserted together, under the refresh's lock.
    """

    __tablename__ = "figures_counts"
    __table_args__ = (Index("ix_figures_counts_day_expert_id", "day", "expert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # topic | outcome
    key: Mapped[str | None] = mapped_column(Text)
    n: Mapped[int] = mapped_column(Integer)


class FiguresBuiltDay(Base):
    """A day whose figures are in the summary; other days are built when a report first needs them."""

    __tablename__ = "figures_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime]


class FiguresState(Base):
    """The summary's one row (id 1): its zone and how far its refreshes have read the changes.

    `watermark`: the `now` of the last refresh; the next one rebuilds the built days of the rows
    written since (minus a safety lag for transactions still in flight). Its row is the refresh's lock.
    """

    __tablename__ = "figures_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))  # the days are this zone's; another zone: rebuild
    watermark: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
