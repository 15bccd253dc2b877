"""Periodic jobs of the notifications app, run by the worker (embedded thread or ``trygg worker``)."""

from __future__ import annotations

from trygg.notifications.actions import deliver_due, deliver_pushes
from trygg.notifications.worker import register_job

register_job("notifications.deliver_due", deliver_due, 5.0)
register_job("notifications.deliver_pushes", deliver_pushes, 5.0)
