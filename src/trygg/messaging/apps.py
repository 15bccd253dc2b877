from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "trygg.messaging"
    label = "messaging"

    def ready(self) -> None:
        from trygg.messaging import (
            notices,
            signals,  # noqa: F401  (class channels follow the roster)
        )
        from trygg.notifications.actions import register_conversation_reader

        register_conversation_reader(notices.load_conversations, notices.has_read)
