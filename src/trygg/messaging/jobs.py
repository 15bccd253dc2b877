"""Periodic jobs of the messaging app: class channels follow the roster; retention; pupils' media."""

from __future__ import annotations

from trygg.messaging.actions import purge_expired_messages, sync_all_class_channels
from trygg.messaging.attachments import purge_expired_media, purge_used_pupil_media
from trygg.notifications.worker import register_job

register_job("messaging.sync_class_channels", sync_all_class_channels, 300.0)
register_job("messaging.purge_expired_messages", purge_expired_messages, 3600.0)
# R-PUP-01: pupils' photos, video and sound are deleted after use (checked every quarter hour).
register_job("messaging.purge_used_pupil_media", purge_used_pupil_media, 900.0)
register_job("messaging.purge_expired_media", purge_expired_media, 86400.0)
