"""The password hasher: Argon2id with the parameters OWASP's Password Storage Cheat Sheet gives.

Django's defaults (100 MiB, 8 lanes) made one sign-in cost about 130 ms of CPU and 100 MiB of
memory; 300 guardians signing in within 10 s queued for half a minute and grew the process by
100 MB. OWASP's first option (m=19 MiB, t=2, p=1) costs a fraction of that and is still memory
hard. The algorithm name stays ``argon2``, so hashes made with the old parameters still verify,
and Django rehashes them at the next sign-in (``must_update``); ``Person.check_password`` makes
that rehash no password change, so it revokes nothing.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
