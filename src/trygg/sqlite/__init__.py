"""Django's SQLite backend with writers queued inside the process (see ``base.py``)."""
