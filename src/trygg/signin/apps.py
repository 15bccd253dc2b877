from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "trygg.signin"
    label = "signin"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from trygg.directory.demo import demo_seeded
        from trygg.signin import signals  # noqa: F401  (records and forgets browser sessions)
        from trygg.signin.demo import seed_demo_sign_in

        demo_seeded.connect(lambda **_kwargs: seed_demo_sign_in(), weak=False, dispatch_uid="trygg.signin.demo")
