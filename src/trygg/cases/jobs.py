"""Periodic jobs of the cases app: follow-up reminders to the leader (R-CASE-17)."""

from __future__ import annotations

from trygg.cases.actions import release_legal_holds, remind_follow_ups
from trygg.notifications.worker import register_job

register_job("cases.remind_follow_ups", remind_follow_ups, 600.0)
# R-PRIV-03: evidence of closed cases is released after the municipality's period, daily.
register_job("cases.release_legal_holds", release_legal_holds, 86400.0)
