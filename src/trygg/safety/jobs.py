"""Periodic job of the safety app: the weekly, text-free notice of groups that leave a few
classmates out (R-SOC-01)."""

from __future__ import annotations

from trygg.notifications.worker import register_job
from trygg.safety.exclusion import notice_excluding_groups

register_job("safety.exclusion_notices", notice_excluding_groups, 3600.0)
