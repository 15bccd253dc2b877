"""A client of the Janus HTTP API as a browser uses it (sessions, handles, long-poll events), for tests.

It talks to Janus exactly like ``sfu.js``: it creates its own session, attaches the VideoRoom
plugin and joins a room with the credential Trygg gave it. Whatever Janus decides, Janus decides.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class JanusTestClient:
    url: str
    session: int = 0
    handle: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6)}
        return requests.post(f"{self.url}{path}", json=body, timeout=5).json()

    def open(self) -> JanusTestClient:
        self.session = self._post("", {"janus": "create"})["data"]["id"]
        self.handle = self._post(f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})[
            "data"]["id"]
        return self

    def close(self) -> None:
        if self.session:
            try:
                self._post(f"/{self.session}", {"janus": "destroy"})
            except requests.RequestException:
                pass

    def poll(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Fetch the events Janus has for this session (waits at most ``timeout`` for the first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = requests.get(f"{self.url}/{self.session}?maxev=10&rid={time.time_ns()}", timeout=timeout + 35)
            body = answer.json()
            batch = body if isinstance(body, list) else [body]
            batch = [e for e in batch if e.get("janus") != "keepalive"]
            if batch:
                self.events += batch
                return batch
        return []

    def request(self, body: dict[str, Any], timeout: float = 5.0, jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a VideoRoom message and return its answer: inline, or the event with its transaction."""
        transaction = secrets.token_hex(6)
        message: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            message["jsep"] = jsep
        answer = requests.post(f"{self.url}/{self.session}/{self.handle}", json=message, timeout=5).json()
        if answer.get("janus") != "ack":
            return answer
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.poll(max(0.1, deadline - time.monotonic())):
                if event.get("transaction") == transaction:
                    return event
        raise TimeoutError("Janus did not answer the request")

    def join(self, room: int, credential: str | None, participant_id: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": room, "display": "test"}
        if credential is not None:
            body["token"] = credential
        if participant_id is not None:
            body["id"] = participant_id
        return data_of(self.request(body))

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> dict[str, Any] | None:
        """Return the first event (already seen or arriving within ``timeout``) matching ``predicate``."""
        for event in self.events:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.poll(max(0.1, deadline - time.monotonic())):
                if predicate(event):
                    return event
        return None


def data_of(event: dict[str, Any]) -> dict[str, Any]:
    return ((event.get("plugindata") or {}).get("data")) or {"janus_error": event.get("error")}


def participant_of(credential: str) -> int:
    return int(credential.split("-", 1)[0])
