from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "trygg.web"
    label = "web"

    def ready(self) -> None:
        # The directory's "me" answers with counts of what waits; only the web layer sees all the
        # apps they come from.
        from trygg.directory.counts import register_counter
        from trygg.web.counts import count_waiting

        register_counter(count_waiting)
