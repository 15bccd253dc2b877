"""WebSocket routes of the messaging app (collected by ``trygg.routing``)."""

from __future__ import annotations

from django.urls import path

from trygg.messaging.consumers import EventsConsumer

websocket_urlpatterns = [path("ws/events", EventsConsumer.as_asgi())]
