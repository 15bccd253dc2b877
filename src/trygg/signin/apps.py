from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "trygg.signin"
    label = "signin"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from trygg.signin import signals  # noqa: F401  (records and forgets browser sessions)
