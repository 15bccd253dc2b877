"""The shape of a WebRTC signal the meeting socket relays (R-MEET-17: nothing is written in the chat).

A signal is a session description (an SDP offer or answer) or one ICE candidate, as the browser's
``RTCSessionDescription.toJSON()`` and ``RTCIceCandidate.toJSON()`` give them. Anything else, such as
a frame carrying text between participants, is refused: the signalling channel is not a chat.
The one other shape is a raised or lowered hand (``{"hand": true}``) in an SFU lesson: a yes or no,
which carries no words.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 1_000


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["offer", "answer"]
    sdp: str = Field(max_length=MAX_SDP_CHARS)

    @field_validator("sdp")
    @classmethod
    def is_sdp(cls, value: str) -> str:
        # RFC 8866: a session description starts with the protocol version line, and every line
        # is "<one letter>=<value>".
        lines = [line for line in value.replace("\r\n", "\n").split("\n") if line]
        if not lines or lines[0] != "v=0" or any(len(line) < 2 or line[1] != "=" or not line[0].isalpha()
                                                 for line in lines):
            raise ValueError("not a session description")
        return value


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidate: str = Field(max_length=MAX_CANDIDATE_CHARS)
    sdpMid: str | None = Field(default=None, max_length=32)  # noqa: N815 - the browser's field names
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)  # noqa: N815
    usernameFragment: str | None = Field(default=None, max_length=256)  # noqa: N815

    @field_validator("candidate")
    @classmethod
    def is_candidate(cls, value: str) -> str:
        # RFC 8839: "candidate:<foundation> <component> <transport> <priority> <address> <port> typ
        # <type> ..."; an empty string marks the end of candidates.
        if value == "":
            return value
        parts = value.split(" ")
        if not value.startswith("candidate:") or len(parts) < 8 or parts[6] != "typ":
            raise ValueError("not an ICE candidate")
        return value


class DescriptionSignal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: Description


class CandidateSignal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidate: Candidate


class HandSignal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hand: bool


def is_valid_signal(data: Any) -> bool:
    """Return whether ``data`` is exactly one SDP offer/answer, one ICE candidate or a hand."""
    if not isinstance(data, dict):
        return False
    if "hand" in data:
        model: type[BaseModel] = HandSignal
    else:
        model = DescriptionSignal if "description" in data else CandidateSignal
    try:
        model.model_validate(data, strict=True)
    except ValidationError:
        return False
    return True
