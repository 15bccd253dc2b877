from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "trygg.events"
    label = "events"

    def ready(self) -> None:
        # Each app declares its payloads in its own ``events.py``; load them all, so every emit is
        # validated whichever module happened to be imported first.
        autodiscover_modules("events")
