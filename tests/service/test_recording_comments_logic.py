"""Comments on a recording, the pure part (service/coaching/comments.py): times as people write them, a comment
checked against the recording's length, threads, what is new to whom, the badges' Russian plurals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.coaching.comments import (
    MAX_TEXT,
    NO_TEXT,
    NO_TIME,
    Comment,
    CommentDraft,
    Problem,
    badge_text,
    check_comment,
    format_at,
    mark_left_pct,
    new_reply_ids,
    parse_at,
    parse_id,
    recording_length,
    replies_badge_text,
    replies_title,
    start_at,
    threads,
    unseen_ids,
)

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
LENGTH = 9 * 60 + 41  # 9:41


@pytest.mark.parametrize(("raw", "seconds"), [
    ("2:15", 135), ("0:05", 5), ("2:5", 125), (" 12:30 ", 750), ("75:00", 4500), ("1:02:15", 3735),
    ("135", 135), ("135,5", 135.5), ("2:15.5", 135.5), ("0", 0),
])
def test_a_time_is_read_as_people_write_it(raw: str, seconds: float) -> None:
    assert parse_at(raw) == pytest.approx(seconds)


@pytest.mark.parametrize("raw", [
    "", "abc", "-1", "+5", "2:60", "1e309", "NaN", "inf", "²", "٣", "2:15:", ":15", "1:2:3:4", "x" * 5000, "2 15",
])
def test_what_is_no_time_reads_as_none(raw: str) -> None:
    assert parse_at(raw) is None


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (135, "2:15"), (581, "9:41"), (750.4, "12:30"),
                                               (3735, "62:15")])
def test_a_time_is_shown_as_m_ss(seconds: float, text: str) -> None:
    assert format_at(seconds) == text


def test_a_good_comment_passes_trimmed() -> None:
    assert check_comment("2:15", "  Здесь не предложили вебинар \n", LENGTH) == \
        CommentDraft(135, "Здесь не предложили вебинар")


def test_a_time_beyond_the_end_names_both_places() -> None:
    assert check_comment("12:30", "текст", LENGTH) == [
        Problem("at", "Время 12:30 за концом записи (длина записи 9:41)")]


def test_the_last_second_shown_is_inside_and_kept_within_the_recording() -> None:
    draft = check_comment("9:41", "конец", LENGTH - 0.3)
    assert isinstance(draft, CommentDraft) and draft.at_s == pytest.approx(LENGTH - 0.3)
    assert check_comment("9:42", "чуть дальше", LENGTH) == [
        Problem("at", "Время 9:42 за концом записи (длина записи 9:41)")]


def test_every_problem_is_named_at_once() -> None:
    problems = check_comment("", "   ", LENGTH)
    assert problems == [Problem("at", NO_TIME), Problem("text", NO_TEXT)]
    unreadable = check_comment("полвторого", "текст", LENGTH)
    assert isinstance(unreadable, list) and "«полвторого» не понять" in unreadable[0].message


def test_an_overlong_text_is_refused_with_its_length() -> None:
    assert isinstance(check_comment("1:00", "я" * MAX_TEXT, LENGTH), CommentDraft)
    assert check_comment("1:00", "я" * (MAX_TEXT + 1), LENGTH) == [
        Problem("text", f"Комментарий длиннее {MAX_TEXT} знаков ({MAX_TEXT + 1}): сократите его")]


@pytest.mark.parametrize(("raw", "expected"), [
    ("7", 7), (" 12 ", 12), ("0", None), ("-1", None), ("1" + "0" * 22, None), ("2147483648", None),
    ("²", None), ("abc", None), ("", None),
])
def test_a_parent_id_is_a_positive_integer_that_fits(raw: str, expected: int | None) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (None, None), ("135", 135), ("2:15", 135), ("9999", None), ("abc", None), ("-5", None),
])
def test_a_links_t_puts_the_player_inside_the_recording(raw: str | None, expected: float | None) -> None:
    assert start_at(raw, LENGTH) == expected


def test_the_length_comes_from_the_file_else_the_ledger() -> None:
    assert recording_length(150.0, 4.0) == 150.0
    assert recording_length(None, 65.25) == 65.25
    assert recording_length(0.0, 65.25) == 65.25  # an empty or unreadable header says nothing
    assert recording_length(float("nan"), 65.25) == 65.25


def test_marks_are_placed_in_percent_of_the_timeline() -> None:
    assert mark_left_pct(135, 270) == 50.0
    assert mark_left_pct(300, 270) == 100.0
    assert mark_left_pct(5, 0) == 0.0


def comment(id_: int, at_s: float, minutes: int, parent: int | None = None, seen: bool = False,
            author: int | None = 1) -> Comment:
    created = T0 + timedelta(minutes=minutes)
    return Comment(id_, parent, author, "Смирнова Анна", at_s, f"текст {id_}", created, created if seen else None)


def test_replies_go_under_their_comment_in_the_order_of_the_recording() -> None:
    found = [comment(1, 200, 0), comment(2, 135, 1), comment(3, 135, 2, parent=1), comment(4, 135, 3, parent=3),
             comment(5, 10, 4, parent=99)]  # 99: its parent is gone: it stands on its own
    shown = threads(found)
    assert [(t.comment.id, [r.id for r in t.replies]) for t in shown] == [(5, []), (2, []), (1, [3, 4])]
    assert shown[1].at == "2:15" and shown[1].whole_s == 135


def test_only_the_calls_expert_has_new_comments() -> None:
    found = [comment(1, 5, 0), comment(2, 6, 1, seen=True)]
    assert unseen_ids(found, viewer_id=7, call_expert_id=7) == {1}
    assert unseen_ids(found, viewer_id=8, call_expert_id=7) == frozenset()


@pytest.mark.parametrize(("count", "text"), [
    (0, None),
    (1, "1 новый комментарий к вашим звонкам"),
    (2, "2 новых комментария к вашим звонкам"),
    (4, "4 новых комментария к вашим звонкам"),
    (5, "5 новых комментариев к вашим звонкам"),
    (11, "11 новых комментариев к вашим звонкам"),
    (21, "21 новый комментарий к вашим звонкам"),
    (22, "22 новых комментария к вашим звонкам"),
    (112, "112 новых комментариев к вашим звонкам"),
])
def test_the_badge_speaks_russian_plurals(count: int, text: str | None) -> None:
    assert badge_text(count) == text


OLGA, MARIA, ANNA = 1, 7, 9  # a supervisor, the call's Expert, another supervisor


def test_replies_by_others_in_her_thread_are_new_to_her_since_her_last_view() -> None:
    found = [comment(1, 135, 0, author=OLGA), comment(2, 135, 5, parent=1, author=MARIA),
             comment(3, 135, 6, parent=1, author=OLGA), comment(4, 135, 7, parent=2, author=ANNA),  # a reply's reply
             comment(5, 20, 8, author=ANNA), comment(6, 20, 9, parent=5, author=MARIA),  # not her thread
             comment(7, 40, 10, parent=5, author=None)]  # an author since deleted
    assert new_reply_ids(found, OLGA, MARIA, last_seen=None) == {2, 4}
    assert new_reply_ids(found, OLGA, MARIA, last_seen=T0 + timedelta(minutes=5)) == {4}  # seen at its minute
    assert new_reply_ids(found, OLGA, MARIA, last_seen=T0 + timedelta(minutes=7)) == frozenset()
    assert new_reply_ids(found, ANNA, MARIA, last_seen=None) == {6, 7}
    assert new_reply_ids(found, MARIA, MARIA, last_seen=None) == frozenset()  # hers: seen_at says what is new


def test_a_reply_before_she_wrote_in_the_thread_is_not_to_her() -> None:
    found = [comment(1, 135, 0, author=ANNA), comment(2, 135, 1, parent=1, author=MARIA),
             comment(3, 135, 2, parent=1, author=OLGA), comment(4, 135, 3, parent=1, author=MARIA)]
    assert new_reply_ids(found, OLGA, MARIA, last_seen=None) == {4}


@pytest.mark.parametrize(("count", "text", "title"), [
    (0, None, "0 новых ответов на ваши комментарии"),
    (1, "Ответы: 1", "1 новый ответ на ваши комментарии"),
    (3, "Ответы: 3", "3 новых ответа на ваши комментарии"),
    (12, "Ответы: 12", "12 новых ответов на ваши комментарии"),
])
def test_the_replies_badge_is_short_and_its_title_says_it_all(count: int, text: str | None, title: str) -> None:
    assert replies_badge_text(count) == text
    assert replies_title(count) == title
