from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "trygg.notifications"
    label = "notifications"
