""""Today" and "now" for the whole application.

"Today" is Vietnam's date, never the server's: a server in UTC would still be on yesterday until
07:00 in Hà Nội. The zone is the setting ``TIMEZONE`` (``DANSO_TIMEZONE``, default
``Asia/Ho_Chi_Minh``). Timestamps are stored as aware UTC instants and shown in that zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def zone() -> ZoneInfo:
    """The configured zone (Vietnam by default), also outside an application context."""
    name = current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name or DEFAULT_TIMEZONE)


def now() -> datetime:
    """The current instant, timezone-aware (UTC), for timestamps that are stored."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Vietnam (the configured zone), whatever the server's own zone."""
    return datetime.now(zone()).date()


def local(instant: datetime) -> datetime:
    """A stored instant in the configured zone (naive values are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone())
