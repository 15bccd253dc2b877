from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "trygg.notifications"
    label = "notifications"

    def ready(self) -> None:
        from trygg.directory.actions import failure_ceiling_reached
        from trygg.notifications.actions import queue_notice

        # The owner of an account under attack is told, in words that name no one and nothing.
        failure_ceiling_reached.connect(lambda person, **_kwargs: queue_notice(person.pk, "signin_attempts"),
                                        weak=False, dispatch_uid="trygg.notifications.signin_attempts")
