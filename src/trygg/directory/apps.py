from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "trygg.directory"
    label = "directory"

    def ready(self) -> None:
        from trygg.directory import checks  # noqa: F401  (registers the deployment checks)
