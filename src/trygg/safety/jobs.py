"""Periodic jobs of the safety app: the weekly, text-free notice of groups that leave a few
classmates out (R-SOC-01), and deleting signal records no rule needs any more."""

from __future__ import annotations

from trygg.notifications.worker import register_job
from trygg.safety.alerts import purge_signal_records
from trygg.safety.exclusion import notice_excluding_groups

register_job("safety.exclusion_notices", notice_excluding_groups, 3600.0)
register_job("safety.purge_signal_records", purge_signal_records, 3600.0)
