"""Periodic jobs of the cases app: follow-up reminders to the leader (R-CASE-17)."""

from __future__ import annotations

from trygg.cases.actions import remind_follow_ups
from trygg.notifications.worker import register_job

register_job("cases.remind_follow_ups", remind_follow_ups, 600.0)
