from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "trygg.messaging"
    label = "messaging"
