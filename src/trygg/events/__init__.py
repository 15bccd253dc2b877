"""The ordered event log: what every app uses to tell clients that something happened.

``log`` appends events and pushes them after commit, ``hub`` hands pushes to this process's
listeners, ``consumers`` serves ``/ws/events``, ``api`` the long poll, and ``payloads`` holds the
registry of typed payloads each app fills from its own ``events.py``.
"""
