"""Periodic jobs of the meetings app: retention of meeting chat, reflections and requests (R-PRIV-03)."""

from __future__ import annotations

from trygg.meetings.retention import purge_expired_meeting_data
from trygg.notifications.worker import register_job

register_job("meetings.purge_expired_meeting_data", purge_expired_meeting_data, 86400.0)
