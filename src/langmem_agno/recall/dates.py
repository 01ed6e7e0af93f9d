"""Dates named in a question ("in July 2022", "last Tuesday", "two weeks ago", "2023-07-30"), as time windows.

A question that names a date is usually about what happened then, so recall boosts
memories whose ``created_at`` falls in (or near) the window. Finding and resolving the
expression relative to now is ``dateparser``'s job (``search_dates``): it knows
absolute, relative and numeric forms. Two things around it are ours:

* a cheap gate: only text with a year, a month or weekday name, or a relative word
  ("ago", "yesterday", "last") reaches the parser, so most questions cost nothing, and
  words it would misread ("we" as Wednesday, "May I") are not taken for dates;
* the width of the window, which the parser does not report: a day, a week, a month,
  a season or a year, read off the expression it matched.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from dateparser.search import search_dates  # type: ignore[import-untyped]

__all__ = ["DateWindow", "date_closeness", "date_windows"]

logger = logging.getLogger("langmem_agno.recall")
_DAY_S = 86_400
_MONTHS = "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_MONTH = rf"\b(?:{_MONTHS})[a-z]*\.?\b|\bmay\b(?=\s*(?:\d|of\b|this\b|last\b))|(?<=\bin\s)may\b"
_WEEKDAY = r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)day\b"
_RELATIVE = r"\b(?:yesterday|today|tonight|ago|last\s+(?:week|month|year|weekend|night))\b"
_NUMERIC = r"\b(?:19|20)\d\d\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
#: Text that may name a date; nothing else is handed to the parser.
_GATE = re.compile(f"{_MONTH}|{_WEEKDAY}|{_RELATIVE}|{_NUMERIC}", re.IGNORECASE)
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
_SEASON = re.compile(r"\b(spring|summer|autumn|fall|winter)\s+(?:of\s+)?((?:19|20)\d\d)\b", re.IGNORECASE)
_HAS_DAY = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\b(?!\d)|-\d\d-\d\d|{_WEEKDAY}|yesterday|today|days?\b", re.I
)
_WEEKS = re.compile(r"\bweeks?\b|\bweekend\b", re.IGNORECASE)
_MONTH_ONLY = re.compile(_MONTH, re.IGNORECASE)
_YEAR_ONLY = re.compile(r"^\D*(?:19|20)\d\d\D*$")
#: How far outside its window a memory still counts as near, in days, by the window's width.
_SLACK_DAYS = {"day": 2.0, "week": 4.0, "month": 7.0, "season": 14.0, "year": 30.0}


@dataclass(frozen=True)
class DateWindow:
    """A stretch of time a question names.

    Attributes:
        start: Epoch seconds, inclusive.
        end: Epoch seconds, exclusive.
        slack_days: How many days outside it a memory still counts as near.
        text: The expression found.
    """

    start: int
    end: int
    slack_days: float
    text: str


def _epoch(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def _month_span(year: int, month: int) -> tuple[datetime, datetime]:
    last = calendar.monthrange(year, month)[1]
    return datetime(year, month, 1), datetime(year, month, last) + timedelta(days=1)


def _window(text: str, found: datetime) -> DateWindow:
    day = datetime(found.year, found.month, found.day)
    if _HAS_DAY.search(text) and not _WEEKS.search(text):
        return DateWindow(_epoch(day), _epoch(day + timedelta(days=1)), _SLACK_DAYS["day"], text)
    if _WEEKS.search(text):
        # "two weeks ago" is a point give or take half a week; "last week" a calendar week.
        start = day - timedelta(days=3 if "ago" in text.lower() else day.weekday())
        return DateWindow(_epoch(start), _epoch(start + timedelta(days=7)), _SLACK_DAYS["week"], text)
    if _MONTH_ONLY.search(text) or "month" in text.lower():
        start, end = _month_span(found.year, found.month)
        return DateWindow(_epoch(start), _epoch(end), _SLACK_DAYS["month"], text)
    start, end = datetime(found.year, 1, 1), datetime(found.year + 1, 1, 1)
    return DateWindow(_epoch(start), _epoch(end), _SLACK_DAYS["year"], text)


def _seasons(query: str) -> list[DateWindow]:
    windows = []
    for match in _SEASON.finditer(query):
        first, last = _SEASONS[match.group(1).lower()]
        year = int(match.group(2))
        start = datetime(year, first, 1)
        end_year = year + 1 if last < first else year
        end = _month_span(end_year, last)[1]
        windows.append(DateWindow(_epoch(start), _epoch(end), _SLACK_DAYS["season"], match.group(0)))
    return windows


def date_windows(query: str, now: int) -> list[DateWindow]:
    """The time windows ``query`` names, resolved relative to ``now`` (epoch seconds, UTC).

    Returns:
        One window per date expression found; none for most questions.
    """
    if not _GATE.search(query):
        return []
    windows = _seasons(query)
    if windows:
        # "autumn 2023": the parser would read the year alone.
        return windows
    base = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)
    try:
        found = search_dates(
            query,
            languages=["en"],
            settings={
                "RELATIVE_BASE": base,
                "PREFER_DATES_FROM": "past",
                "PREFER_DAY_OF_MONTH": "first",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
    except Exception as exc:  # a parser bug must cost the date boost, not the recall
        logger.debug("date parsing of %r failed: %s", query, exc)
        return []
    out = []
    for text, moment in found or []:
        # The parser also reads short words as dates ("we", "sat"): keep what passed the gate.
        if _GATE.search(text) and not (_YEAR_ONLY.match(text) and len(windows) > 0):
            out.append(_window(text, moment))
    return out


def date_closeness(created: npt.NDArray[np.int64], windows: list[DateWindow]) -> npt.NDArray[np.float64]:
    """How close each ``created_at`` is to the nearest window: 1 inside, falling to 0 at its slack."""
    best = np.zeros(created.shape, dtype=np.float64)
    for w in windows:
        gap = np.maximum(np.maximum(w.start - created, created - (w.end - 1)), 0) / _DAY_S
        best = np.maximum(best, np.clip(1.0 - gap / w.slack_days, 0.0, 1.0))
    return best
