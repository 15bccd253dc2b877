from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "trygg.web"
    label = "web"
