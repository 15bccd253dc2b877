from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "trygg.cases"
    label = "cases"
