from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "trygg.policy"
    label = "policy"

    def ready(self) -> None:
        # Load and validate every pack at startup: a broken pack stops the process with
        # the file and the reason instead of failing open later.
        from trygg.policy import engine

        engine.load_registry()
