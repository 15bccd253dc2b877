"""WebSocket route of the event log (collected by ``trygg.routing``)."""

from __future__ import annotations

from django.urls import path

from trygg.events.consumers import EventsConsumer

websocket_urlpatterns = [path("ws/events", EventsConsumer.as_asgi())]
