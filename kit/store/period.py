"""Period bounds for store queries: dates or times, Gregorian or ROC, inclusive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kit.errors import ConfigError
from kit.schema import TIMEZONE

TZ = ZoneInfo(TIMEZONE)

Bound = date | datetime | str | None
"""A period bound: a ``date``, a ``datetime``, ``"YYYY-MM-DD"``, ROC ``"YYY/MM/DD"`` or None."""

_ISO = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})\s*$")
_ROC = re.compile(r"^\s*(\d{2,3})[/-](\d{1,2})[/-](\d{1,2})\s*$")


def parse_day(text: str) -> date:
    """Parse ``"YYYY-MM-DD"`` (or ``YYYY/MM/DD``) or ROC ``"YYY/MM/DD"`` (year + 1911).

    Raises
    ------
    ConfigError
        When the text is neither form or not a real date.

    """
    for pattern, offset in ((_ISO, 0), (_ROC, 1911)):
        m = pattern.match(text)
        if m:
            try:
                return date(int(m[1]) + offset, int(m[2]), int(m[3]))
            except ValueError:
                break
    raise ConfigError(
        f"{text!r} is not a date: write YYYY-MM-DD or the ROC form YYY/MM/DD",
        column="period",
    )


def _instant(value: datetime) -> datetime:
    return value.replace(tzinfo=TZ) if value.tzinfo is None else value.astimezone(TZ)


@dataclass(frozen=True)
class Period:
    """A half-open interval of instants ``[start, stop)``; either end may be open (None)."""

    start: datetime | None
    stop: datetime | None

    @classmethod
    def of(
        cls,
        start: Bound = None,
        end: Bound = None,
        *,
        margin_before: timedelta = timedelta(0),
        margin_after: timedelta = timedelta(0),
    ) -> Period:
        """Build the period from ``start`` to ``end`` inclusive, widened by the margins.

        A date (or date string) bound covers the whole day: ``end`` includes
        every lookup of its day. A ``datetime`` bound is an instant (naive
        means Asia/Taipei), and ``end`` then includes that instant.
        """
        lo = hi = None
        if start is not None:
            lo = cls._bound(start, end_of_day=False)
        if end is not None:
            hi = cls._bound(end, end_of_day=True)
        if lo is not None and hi is not None and hi <= lo:
            raise ConfigError("the period ends before it starts: check --from and --to")
        return cls(
            None if lo is None else lo - margin_before,
            None if hi is None else hi + margin_after,
        )

    @staticmethod
    def _bound(value: date | datetime | str, *, end_of_day: bool) -> datetime:
        if isinstance(value, datetime):
            moment = _instant(value)
            return moment + timedelta(microseconds=1) if end_of_day else moment
        day = parse_day(value) if isinstance(value, str) else value
        moment = datetime.combine(day, time(0), tzinfo=TZ)
        return moment + timedelta(days=1) if end_of_day else moment

    def months(self, stored: list[str]) -> list[str]:
        """Return the stored months (``YYYY-MM``) that overlap the period."""
        lo = None if self.start is None else self.start.strftime("%Y-%m")
        hi = None
        if self.stop is not None:
            hi = (self.stop - timedelta(microseconds=1)).strftime("%Y-%m")
        return sorted(m for m in stored if (lo is None or m >= lo) and (hi is None or m <= hi))

    def sql(self, column: str = "time") -> tuple[str, list[object]]:
        """Return a SQL condition on ``column`` and its parameters."""
        parts: list[str] = []
        params: list[object] = []
        if self.start is not None:
            parts.append(f"{column} >= ?")
            params.append(self.start)
        if self.stop is not None:
            parts.append(f"{column} < ?")
            params.append(self.stop)
        return (" AND ".join(parts) or "TRUE"), params
