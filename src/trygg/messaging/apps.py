from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "trygg.messaging"
    label = "messaging"

    def ready(self) -> None:
        from trygg.messaging import notices
        from trygg.notifications.actions import register_conversation_reader

        register_conversation_reader(notices.load_conversations, notices.has_read)
