"""WebSocket routes of the meetings app (collected by ``trygg.routing``)."""

from __future__ import annotations

from django.urls import path

from trygg.meetings.consumers import MeetingConsumer

websocket_urlpatterns = [path("ws/meetings/<int:meeting_id>", MeetingConsumer.as_asgi())]
