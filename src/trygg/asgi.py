"""ASGI entry point: Django for HTTP, Channels for WebSockets."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trygg.settings")

import django  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

django.setup(set_prefix=False)


class SharedThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler, running every sync view in the process's one shared thread.

    Django gives each request a thread of its own (``ThreadSensitiveContext``), and with it a new
    database connection: on the message send path, starting both cost more than the send itself,
    and thirty concurrent senders meant thirty threads taking turns at the GIL and one SQLite
    writer. With the middleware chain async from end to end (``trygg.web.middleware``), only the
    view itself runs in that thread, async views (the long poll) run on the loop and hold no
    thread, and the connection is reused (``CONN_MAX_AGE``). The price is the one design.md names:
    a slow sync view delays the others in its process, so views stay short and slow work is a job.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


django_asgi = SharedThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from trygg.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
