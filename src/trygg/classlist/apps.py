from django.apps import AppConfig


class ClasslistConfig(AppConfig):
    name = "trygg.classlist"
    label = "classlist"
