"""Fixtures for the safety tests: the JSON helpers of the messaging tests."""

from tests.messaging.conftest import chat, new_txn, post, send  # noqa: F401
