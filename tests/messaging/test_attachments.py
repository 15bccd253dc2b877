"""Photos, sound and video in chat: held until everyone in them has given permission (R-PAR-02,
R-STF-02), a pupil's upload to a school conversation waits for a teacher (R-PUP-01), and pupils'
uploads are deleted after use, except what a case holds as evidence (R-PUP-01)."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.messaging.conftest import post
from trygg.events.log import latest_event_id
from trygg.events.models import Event
from trygg.messaging import actions
from trygg.messaging.attachments import purge_used_pupil_media
from trygg.messaging.models import Attachment, AttachmentPermission, Message


def png_bytes(width: int = 2, height: int = 2, pad: int = 0) -> bytes:
    """Return a valid PNG (grey pixels); ``pad`` adds a text chunk to make it bigger."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # Row by row, so that a 30000 x 30000 flood is built without 900 MB in memory.
    packer = zlib.compressobj()
    row = b"\x00" + b"\x80" * width
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", data)
    if pad:
        body += chunk(b"tEXt", b"c\x00" + b"x" * pad)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def jpeg_bytes(orientation: int = 6, secret: str = "GPS 59.9139N 10.7522E", size: tuple[int, int] = (6, 2)) -> bytes:
    """Return a real JPEG, wider than high, whose Exif says to rotate it (``orientation``) and
    carries ``secret`` as the camera make, plus a comment."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = secret
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes(), comment=b"taken at home")
    return out.getvalue()


def webp_bytes(secret: bytes = b"GPS 59") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = secret.decode()
    out = io.BytesIO()
    Image.new("RGB", (3, 3), (10, 200, 10)).save(out, "WEBP", exif=exif.tobytes())
    return out.getvalue()


def pixels_of(content: bytes) -> tuple[tuple[int, int], bytes]:
    image = Image.open(io.BytesIO(content))
    return image.size, image.convert("RGB").tobytes()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    """Files go to a directory of this test, never to the repository's data dir."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client: Any, conversation_id: int, *, pictured: list[str] | None = None, nobody: bool = False,
           content: bytes | None = None, name: str = "photo.png", content_type: str = "image/png",
           **extra: Any) -> Any:
    data: dict[str, Any] = {"file": SimpleUploadedFile(name, content if content is not None else png_bytes(),
                                                       content_type=content_type)}
    if pictured:
        data["pictured_usernames"] = pictured
    if nobody:
        data["nobody_identifiable"] = "true"
    data.update(extra)
    return client.post(f"/api/v1/conversations/{conversation_id}/attachments", data=data)


def class_channel(name: str) -> Any:
    from trygg.directory.models import SchoolClass

    channel, _guardians = actions.ensure_class_channels(SchoolClass.objects.get(name=name))
    return channel


def stored_path(attachment_id: int, media_root: Path) -> Path:
    return media_root / "attachments" / Attachment.objects.get(pk=attachment_id).stored_name


def attachment_ids_in(client: Any, conversation_id: int) -> list[int]:
    messages = client.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    return [m["attachment"]["id"] for m in messages if m.get("attachment")]


def events_of(person_id: int, after: int, event_type: str) -> list[dict[str, Any]]:
    return [e.payload for e in Event.objects.filter(id__gt=after, type=event_type, recipients__person_id=person_id)]


def test_r_par_02_photo_of_a_pupil_is_hidden_from_the_class_until_a_guardian_grants(
    api_client, person, media_root
) -> None:
    """R-PAR-02: kari.4a's photo of emma.4a in the 4A channel is invisible to noah.4a (no message, 404
    on the attachment and its file) until mor.emma, who has parental responsibility, grants it; then
    the class sees it as a message, and the file is served with safe headers."""
    channel = class_channel("4A")
    kari, noah, mor = api_client("kari.4a"), api_client("noah.4a"), api_client("mor.emma")
    start = latest_event_id(person("noah.4a").pk)
    response = upload(kari, channel.pk, pictured=["emma.4a"], caption="Turdag")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["waiting_for_permission"]
    assert body["message_id"] is None
    assert "dk_policy.photo-permission" in body["rules"]
    assert [p["username"] for p in body["pictured"]] == ["emma.4a"]
    attachment_id = body["id"]

    assert attachment_ids_in(noah, channel.pk) == []
    assert noah.get(f"/api/v1/attachments/{attachment_id}").status_code == 404
    assert noah.get(f"/api/v1/attachments/{attachment_id}/file").status_code == 404
    assert events_of(person("noah.4a").pk, start, "attachment.permission_requested") == []
    assert not Event.objects.filter(id__gt=start, recipients__person=person("noah.4a")).exists()

    # The guardian is asked (an event in her stream) and can see what she is asked about.
    requested = events_of(person("mor.emma").pk, start, "attachment.permission_requested")
    assert requested == [{"attachment_id": attachment_id, "conversation_id": channel.pk,
                          "person_id": person("emma.4a").pk}]
    assert attachment_id in [a["id"] for a in mor.get("/api/v1/attachments/requests").json()]
    file_response = mor.get(f"/api/v1/attachments/{attachment_id}/file")
    assert file_response.status_code == 200
    assert file_response["Content-Type"] == "image/png"
    assert file_response["X-Content-Type-Options"] == "nosniff"
    assert file_response["Content-Disposition"] == f'inline; filename="attachment-{attachment_id}.png"'
    assert "no-store" in file_response["Cache-Control"]
    assert pixels_of(file_response.content) == pixels_of(png_bytes())
    assert "sandbox" in file_response["Content-Security-Policy"]

    granted = post(mor, f"/api/v1/attachments/{attachment_id}/permission", {"grant": True})
    assert granted.status_code == 200, granted.content
    assert granted.json()["status"] == "visible"
    assert attachment_ids_in(noah, channel.pk) == [attachment_id]
    assert noah.get(f"/api/v1/attachments/{attachment_id}/file").status_code == 200
    message = Message.objects.get(attachment_id=attachment_id)
    assert message.sender == person("kari.4a") and message.body == "Turdag"
    new_for_noah = events_of(person("noah.4a").pk, start, "message.new")
    assert [e["message"]["attachment"]["id"] for e in new_for_noah] == [attachment_id]

    # Who granted, and when, is recorded and audited.
    permission = AttachmentPermission.objects.get(attachment_id=attachment_id)
    assert permission.status == "granted" and permission.decided_by == person("mor.emma")
    assert permission.decided_at is not None
    from trygg.audit.models import AuditRecord

    audit = AuditRecord.objects.filter(action="attachment.permission_granted", target_id=str(attachment_id)).get()
    assert audit.actor == person("mor.emma") and audit.detail["person_id"] == person("emma.4a").pk


def test_r_par_02_three_personas_member_pictured_guardian_and_outsider(api_client, person) -> None:
    """R-PAR-02: while held, the sender and the pictured pupil's guardian see the attachment, a class
    member gets 404, and guardians of another class get 404 before and after it is shared."""
    channel = class_channel("4A")
    attachment_id = upload(api_client("kari.4a"), channel.pk, pictured=["emma.4a"]).json()["id"]
    paths = (f"/api/v1/attachments/{attachment_id}", f"/api/v1/attachments/{attachment_id}/file")
    for path in paths:
        assert api_client("kari.4a").get(path).status_code == 200
        assert api_client("mor.emma").get(path).status_code == 200
        assert api_client("noah.4a").get(path).status_code == 404
        assert api_client("mor.sara").get(path).status_code == 404
        assert api_client("far.jonas").get(path).status_code == 404
    # Someone who does not answer for emma cannot answer at all: the same 404.
    assert post(api_client("noah.4a"), f"/api/v1/attachments/{attachment_id}/permission",
                {"grant": True}).status_code == 404
    assert post(api_client("mor.sara"), f"/api/v1/attachments/{attachment_id}/permission",
                {"grant": True}).status_code == 404
    assert post(api_client("mor.emma"), f"/api/v1/attachments/{attachment_id}/permission",
                {"grant": True}).status_code == 200
    for path in paths:
        assert api_client("noah.4a").get(path).status_code == 200
        assert api_client("mor.emma").get(path).status_code == 200
        assert api_client("mor.sara").get(path).status_code == 404
    # The general reader sees the file, not who is in it.
    listed = api_client("noah.4a").get(f"/api/v1/conversations/{channel.pk}/messages").json()
    ref = next(m["attachment"] for m in listed if m.get("attachment"))
    assert "pictured" not in ref


def test_r_par_02_a_refusal_deletes_the_file(api_client, person, media_root,
                                             django_capture_on_commit_callbacks) -> None:
    """R-PAR-02: when the guardian refuses, the file is deleted from disk, no message is posted,
    nobody (the sender included) can fetch it, and the refusal is recorded and audited."""
    channel = class_channel("4A")
    attachment_id = upload(api_client("kari.4a"), channel.pk, pictured=["emma.4a"]).json()["id"]
    path = stored_path(attachment_id, media_root)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        refused = post(api_client("mor.emma"), f"/api/v1/attachments/{attachment_id}/permission", {"grant": False})
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    assert not path.exists()
    assert not Message.objects.filter(attachment_id=attachment_id).exists()
    assert api_client("kari.4a").get(f"/api/v1/attachments/{attachment_id}/file").status_code == 404
    assert api_client("mor.emma").get(f"/api/v1/attachments/{attachment_id}/file").status_code == 404
    permission = AttachmentPermission.objects.get(attachment_id=attachment_id)
    assert permission.status == "refused" and permission.decided_by == person("mor.emma")
    from trygg.audit.models import AuditRecord

    records = AuditRecord.objects.filter(target_id=str(attachment_id), target_type="messaging.attachment")
    actions_logged = set(records.values_list("action", flat=True))
    assert {"attachment.uploaded", "attachment.permission_refused", "attachment.deleted_on_refusal"} <= actions_logged
    # Deciding again is a wrong state, not a second refusal.
    again = post(api_client("far.emma"), f"/api/v1/attachments/{attachment_id}/permission", {"grant": True})
    assert again.status_code in (404, 409)


def test_r_par_02_upload_refuses_files_that_are_not_photos_sound_or_video(api_client) -> None:
    """The type is read from the file's first bytes, not its name or declared type: SVG, HTML and
    GIF are refused with 400 and the JSON error shape; a WebP or JPEG is accepted."""
    conversation_id = post(api_client("kari.4a"), "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    kari = api_client("kari.4a")
    bad = [
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "photo.png", "image/png"),
        (b"<!doctype html><script>alert(1)</script>", "photo.jpg", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "anim.gif", "image/gif"),
        (b"%PDF-1.7\n", "doc.png", "image/png"),
    ]
    for content, name, declared in bad:
        response = upload(kari, conversation_id, nobody=True, content=content, name=name, content_type=declared)
        assert response.status_code == 400, name
        assert response.json()["error"] == "bad_file_type"
        assert set(response.json()) >= {"error", "message", "rule", "requirement"}
    ok = upload(kari, conversation_id, nobody=True, content=webp_bytes(), name="x.bin", content_type="text/plain")
    assert ok.status_code == 201 and ok.json()["content_type"] == "image/webp"
    jpeg = upload(kari, conversation_id, nobody=True, content=jpeg_bytes(), name="a.jpg")
    assert jpeg.status_code == 201 and jpeg.json()["kind"] == "image"
    broken = upload(kari, conversation_id, nobody=True, content=b"\xff\xd8\xff\xe0" + b"\x00" * 40, name="b.jpg")
    assert broken.status_code == 400 and broken.json()["error"] == "bad_file"
    webm = upload(kari, conversation_id, nobody=True, content=b"\x1a\x45\xdf\xa3" + b"\x00" * 40, name="clip.webm")
    assert webm.status_code == 201 and webm.json()["kind"] == "video"


def test_upload_over_the_size_limit_is_413(api_client, settings) -> None:
    """A file over the attachment limit is 413 (too_large), as is a body over the API's limit."""
    conversation_id = post(api_client("kari.4a"), "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    settings.TRYGG_ATTACHMENT_MAX_BYTES = 1000
    response = upload(api_client("kari.4a"), conversation_id, nobody=True, content=png_bytes(pad=2000))
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    settings.TRYGG_ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024
    huge = upload(api_client("kari.4a"), conversation_id, nobody=True,
                  content=png_bytes(pad=settings.TRYGG_API_MAX_UPLOAD_BODY + 10))
    assert huge.status_code == 413
    assert not Attachment.objects.filter(conversation_id=conversation_id).exists()


def test_r_par_02_a_phone_sized_photo_uploads_through_the_api(api_client) -> None:
    """A 4 MB photo is over the API's plain body limit but within the attachment limit: accepted."""
    conversation_id = post(api_client("kari.4a"), "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    response = upload(api_client("kari.4a"), conversation_id, nobody=True, content=png_bytes(pad=4 * 1024 * 1024))
    assert response.status_code == 201, response.content[:300]


def test_r_par_02_who_is_in_it_must_be_said_and_must_be_someone_the_sender_knows(api_client) -> None:
    """R-PAR-02: the sender names the people in it or says nobody can be recognised (not both, not
    neither); names outside the conversation and the sender's directory are 400 like unknown ones;
    a non-member gets 404."""
    kari = api_client("kari.4a")
    conversation_id = post(kari, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    assert upload(kari, conversation_id).json()["error"] == "bad_pictured"
    assert upload(kari, conversation_id, pictured=["emma.4a"], nobody=True).status_code == 400
    assert upload(kari, conversation_id, pictured=["nobody.here"]).json()["error"] == "unknown_member"
    # mor.sara is a guardian in 9B: not in this chat, not among kari's contacts.
    assert upload(kari, conversation_id, pictured=["mor.sara"]).json()["error"] == "unknown_member"
    assert upload(api_client("mor.sara"), conversation_id, nobody=True).status_code == 404
    response = kari.post(f"/api/v1/conversations/{conversation_id}/attachments",
                         data={"nobody_identifiable": "true"})
    assert response.status_code == 400 and response.json()["error"] == "no_file"


def test_r_par_02_nobody_identifiable_is_shared_at_once_and_a_repeated_txn_is_one_attachment(api_client) -> None:
    """R-PAR-02: a photo in which nobody can be recognised needs no permission: it is a message at
    once. A repeated client_txn_id answers 200 with the same attachment."""
    kari, mor = api_client("kari.4a"), api_client("mor.emma")
    conversation_id = post(kari, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    first = upload(kari, conversation_id, nobody=True, client_txn_id="att-1")
    assert first.status_code == 201 and first.json()["status"] == "visible"
    again = upload(kari, conversation_id, nobody=True, client_txn_id="att-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert attachment_ids_in(mor, conversation_id) == [first.json()["id"]]


def test_r_par_02_a_guardian_sending_a_photo_of_her_own_child_has_given_permission(api_client) -> None:
    """R-PAR-02: the guardian who sends a photo of her child answers for the child by sending it."""
    mor = api_client("mor.emma")
    conversation_id = post(mor, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["kari.4a"]}).json()["id"]
    response = upload(mor, conversation_id, pictured=["emma.4a"])
    assert response.status_code == 201 and response.json()["status"] == "visible"


def test_r_par_02_a_pupil_from_the_consent_grade_answers_for_themselves(api_client, person) -> None:
    """R-PAR-02: sara.9b (grade 9, the default grade from which pupils answer) gives permission
    herself; her guardian mor.sara is not asked and cannot answer."""
    channel = class_channel("9B")
    attachment = upload(api_client("ola.9b"), channel.pk, pictured=["sara.9b"]).json()
    permission = AttachmentPermission.objects.get(attachment_id=attachment["id"])
    assert list(permission.deciders.values_list("username", flat=True)) == ["sara.9b"]
    assert post(api_client("mor.sara"), f"/api/v1/attachments/{attachment['id']}/permission",
                {"grant": True}).status_code == 404
    assert attachment["id"] in [a["id"] for a in api_client("sara.9b").get("/api/v1/attachments/requests").json()]
    assert attachment_ids_in(api_client("jonas.9b"), channel.pk) == []
    granted = post(api_client("sara.9b"), f"/api/v1/attachments/{attachment['id']}/permission", {"grant": True})
    assert granted.json()["status"] == "visible"
    assert attachment_ids_in(api_client("jonas.9b"), channel.pk) == [attachment["id"]]


def test_r_stf_02_a_staff_photo_of_a_colleague_waits_for_the_colleague(api_client, person) -> None:
    """R-STF-02 (and R-PAR-02): kari.4a's staff-party photo of ola.9b is hidden from nils.9b until ola
    grants it; both rules fire and are recorded; nils cannot answer for ola."""
    kari = api_client("kari.4a")
    group = post(kari, "/api/v1/conversations", {"kind": "group", "title": "Personalfest",
                                                 "member_usernames": ["ola.9b", "nils.9b"]})
    assert group.status_code == 201, group.content
    conversation_id = group.json()["id"]
    response = upload(kari, conversation_id, pictured=["ola.9b", "kari.4a"])
    assert response.status_code == 201, response.content
    attachment = response.json()
    assert {"dk_policy.staff-photo-permission", "dk_policy.photo-permission"} <= set(attachment["rules"])
    # The sender is in it too, and answers for herself by sending.
    assert [p["username"] for p in attachment["pictured"]] == ["ola.9b"]
    permission = AttachmentPermission.objects.get(attachment_id=attachment["id"])
    assert set(permission.rules) == {"dk_policy.photo-permission", "dk_policy.staff-photo-permission"}
    assert attachment_ids_in(api_client("nils.9b"), conversation_id) == []
    assert api_client("nils.9b").get(f"/api/v1/attachments/{attachment['id']}/file").status_code == 404
    assert post(api_client("nils.9b"), f"/api/v1/attachments/{attachment['id']}/permission",
                {"grant": True}).status_code == 404
    assert post(api_client("ola.9b"), f"/api/v1/attachments/{attachment['id']}/permission",
                {"grant": True}).json()["status"] == "visible"
    assert attachment_ids_in(api_client("nils.9b"), conversation_id) == [attachment["id"]]
    permission.refresh_from_db()
    assert permission.decided_by == person("ola.9b")


def test_r_pup_01_a_pupils_upload_to_a_school_conversation_waits_for_a_teacher(api_client, person) -> None:
    """R-PUP-01: sara.9b's clip in a school group is held until a teacher of that group agrees;
    jonas.9b sees nothing until then, and a pupil cannot agree."""
    ola = api_client("ola.9b")
    group = post(ola, "/api/v1/conversations", {"kind": "group", "title": "Naturfag", "school_owned": True,
                                                "member_usernames": ["nils.9b", "sara.9b", "jonas.9b"]})
    assert group.status_code == 201, group.content
    conversation_id = group.json()["id"]
    response = upload(api_client("sara.9b"), conversation_id, nobody=True,
                      content=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40, name="forsok.mp4")
    assert response.status_code == 201, response.content
    attachment = response.json()
    assert attachment["kind"] == "video" and attachment["status"] == "pending"
    assert attachment["waiting_for_teacher"] and not attachment["waiting_for_permission"]
    assert attachment["delete_after_use"]
    assert "dk_policy.pupil-media-agreed" in attachment["rules"]
    assert attachment_ids_in(api_client("jonas.9b"), conversation_id) == []
    assert api_client("jonas.9b").get(f"/api/v1/attachments/{attachment['id']}").status_code == 404
    assert post(api_client("jonas.9b"), f"/api/v1/attachments/{attachment['id']}/agreement",
                {"agree": True}).status_code == 404
    # The teachers are asked (a neutral notice too) and see what they are asked about.
    from trygg.notifications.models import Notice

    assert Notice.objects.filter(person=person("nils.9b"), kind="attachment_permission").exists()
    assert not Notice.objects.filter(person=person("jonas.9b"), kind="attachment_permission").exists()
    assert attachment["id"] in [a["id"] for a in api_client("nils.9b").get("/api/v1/attachments/requests").json()]
    assert api_client("nils.9b").get(f"/api/v1/attachments/{attachment['id']}/file").status_code == 200
    agreed = post(api_client("nils.9b"), f"/api/v1/attachments/{attachment['id']}/agreement", {"agree": True})
    assert agreed.status_code == 200 and agreed.json()["status"] == "visible"
    assert Attachment.objects.get(pk=attachment["id"]).agreed_by == person("nils.9b")
    assert attachment_ids_in(api_client("jonas.9b"), conversation_id) == [attachment["id"]]


def test_r_pup_01_a_teacher_who_does_not_agree_deletes_it(api_client, media_root,
                                                        django_capture_on_commit_callbacks) -> None:
    """R-PUP-01: a teacher saying no deletes the pupil's file."""
    ola = api_client("ola.9b")
    conversation_id = post(ola, "/api/v1/conversations", {
        "kind": "group", "school_owned": True, "member_usernames": ["nils.9b", "sara.9b", "jonas.9b"]}).json()["id"]
    attachment_id = upload(api_client("sara.9b"), conversation_id, nobody=True).json()["id"]
    path = stored_path(attachment_id, media_root)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(ola, f"/api/v1/attachments/{attachment_id}/agreement", {"agree": False})
    assert response.json()["status"] == "refused"
    assert not path.exists()


def test_r_pup_01_pupils_uploads_are_deleted_after_use_except_evidence(
    api_client, person, media_root, django_capture_on_commit_callbacks
) -> None:
    """R-PUP-01: the job deletes a pupil's shared photo one day (the default) after it was shared;
    a photo whose message a case holds as evidence is kept; an adult's photo is not touched."""
    sara = api_client("sara.9b")
    conversation_id = post(sara, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["jonas.9b"]}).json()["id"]
    used = upload(sara, conversation_id, nobody=True).json()
    held = upload(sara, conversation_id, nobody=True).json()
    assert used["status"] == "visible" and used["delete_after_use"]
    Message.objects.filter(attachment_id=held["id"]).update(legal_hold=True)
    adult_conversation = post(api_client("kari.4a"), "/api/v1/conversations",
                              {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    adult = upload(api_client("kari.4a"), adult_conversation, nobody=True).json()
    paths = {a["id"]: stored_path(a["id"], media_root) for a in (used, held, adult)}

    assert purge_used_pupil_media(timezone.now() + timedelta(hours=12)) == 0
    start = latest_event_id(person("jonas.9b").pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_used_pupil_media(timezone.now() + timedelta(days=1, minutes=5)) == 1
    assert not paths[used["id"]].exists()
    assert paths[held["id"]].exists() and paths[adult["id"]].exists()
    assert Attachment.objects.get(pk=used["id"]).status == "deleted"
    listed = api_client("jonas.9b").get(f"/api/v1/conversations/{conversation_id}/messages").json()
    refs = {m["attachment"]["id"]: m["attachment"] for m in listed if m.get("attachment")}
    assert refs[used["id"]]["deleted"] and refs[used["id"]]["url"] is None
    assert api_client("jonas.9b").get(f"/api/v1/attachments/{used['id']}/file").status_code == 404
    assert api_client("jonas.9b").get(f"/api/v1/attachments/{held['id']}/file").status_code == 200
    # Members are told live: the message is re-sent without its file.
    edited = events_of(person("jonas.9b").pk, start, "message.edited")
    assert [e["message"]["attachment"]["deleted"] for e in edited] == [True]


def test_r_pup_01_the_municipality_sets_the_days(api_client, person, media_root) -> None:
    """R-PUP-01: with the municipality's parameter at 3 days, a two-day-old pupil photo is kept."""
    from trygg.policy.models import PolicyConfig

    municipality = person("sara.9b").municipality
    config, _created = PolicyConfig.objects.get_or_create(municipality=municipality)
    config.overrides = {**config.overrides, "dk_policy.pupil-media-agreed": {"delete_after_days": 3}}
    config.save()
    sara = api_client("sara.9b")
    conversation_id = post(sara, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["jonas.9b"]}).json()["id"]
    upload(sara, conversation_id, nobody=True)
    assert purge_used_pupil_media(timezone.now() + timedelta(days=2)) == 0
    assert purge_used_pupil_media(timezone.now() + timedelta(days=3, minutes=5)) == 1


def test_deleting_the_message_deletes_its_file_unless_held_as_evidence(
    api_client, media_root, django_capture_on_commit_callbacks
) -> None:
    """A sender deleting a message with a photo deletes the file; a case's hold keeps it."""
    kari = api_client("kari.4a")
    conversation_id = post(kari, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    gone, kept = (upload(kari, conversation_id, nobody=True).json() for _ in range(2))
    Message.objects.filter(attachment_id=kept["id"]).update(legal_hold=True)
    with django_capture_on_commit_callbacks(execute=True):
        for attachment in (gone, kept):
            path = stored_path(attachment["id"], media_root)
            assert kari.delete(f"/api/v1/messages/{attachment['message_id']}").status_code == 200
            attachment["path"] = path
    assert not gone["path"].exists()
    assert kept["path"].exists()


def test_r_par_02_events_reach_only_those_concerned(api_client, person) -> None:
    """R-PAR-02: the permission request goes to those who answer for the pupil (both guardians with
    parental responsibility), the update to them and the sender: never to the class."""
    channel = class_channel("4A")
    start = max(latest_event_id(person(u).pk) for u in ("mor.emma", "far.emma", "kari.4a", "noah.4a"))
    upload(api_client("kari.4a"), channel.pk, pictured=["emma.4a"])
    requested = Event.objects.filter(id__gt=start, type="attachment.permission_requested").get()
    deciders = set(requested.recipients.values_list("person_id", flat=True))
    from trygg.directory.models import Guardianship

    responsible = set(Guardianship.objects.filter(pupil=person("emma.4a"), parental_responsibility=True)
                      .values_list("guardian_id", flat=True))
    assert deciders == responsible and person("mor.emma").pk in deciders
    updated = set(Event.objects.filter(id__gt=start, type="attachment.updated")
                  .values_list("recipients__person_id", flat=True))
    assert updated <= responsible | {person("kari.4a").pk, person("emma.4a").pk}
    assert person("noah.4a").pk not in updated


def test_the_sender_can_withdraw_a_held_attachment(api_client, media_root, django_capture_on_commit_callbacks) -> None:
    """A held attachment can be withdrawn by its sender (the file is deleted), by nobody else."""
    channel = class_channel("4A")
    attachment_id = upload(api_client("kari.4a"), channel.pk, pictured=["emma.4a"]).json()["id"]
    path = stored_path(attachment_id, media_root)
    assert api_client("mor.emma").delete(f"/api/v1/attachments/{attachment_id}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client("kari.4a").delete(f"/api/v1/attachments/{attachment_id}")
    assert response.status_code == 200 and response.json()["status"] == "deleted"
    assert not path.exists()


# ---------------------------------------------------------------------------------- the pages


def signed_in(person: Any, username: str) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(person(username))
    return client


def test_r_par_02_pages_without_script_attach_ask_and_grant(person) -> None:
    """R-PAR-02 without script: kari.4a attaches through the form naming emma.4a; her page lists it as
    waiting; noah.4a's page has no photo; mor.emma's messages page links to her requests, where she
    gives permission by a form; then noah's page shows the photo from the scoped file URL."""
    channel = class_channel("4A")
    kari, noah, mor = (signed_in(person, u) for u in ("kari.4a", "noah.4a", "mor.emma"))
    page = kari.get(f"/messages/{channel.pk}/").content.decode()
    assert 'id="attach-form"' in page and 'enctype="multipart/form-data"' in page
    assert '<option value="emma.4a">' in page
    response = kari.post(f"/messages/{channel.pk}/attach", {
        "file": SimpleUploadedFile("tur.png", png_bytes(), content_type="image/png"),
        "pictured_usernames": ["emma.4a"], "caption": "Tur",
    })
    assert response.status_code == 302
    attachment = Attachment.objects.filter(conversation=channel).latest("id")
    assert attachment.status == "pending"
    page = kari.get(f"/messages/{channel.pk}/").content.decode()
    assert f'data-attachment-id="{attachment.pk}" data-status="pending"' in page
    file_url = f"/api/v1/attachments/{attachment.pk}/file"
    assert file_url not in noah.get(f"/messages/{channel.pk}/").content.decode()

    listing = mor.get("/messages/").content.decode()
    assert 'data-testid="photo-requests"' in listing
    requests_page = mor.get("/messages/photos/").content.decode()
    assert f'data-attachment-id="{attachment.pk}"' in requests_page and file_url in requests_page
    decided = mor.post(f"/messages/photos/{attachment.pk}/permission",
                       {"grant": "yes", "person": "emma.4a", "next": "photos"})
    assert decided.status_code == 302 and decided["Location"] == "/messages/photos/"
    assert file_url in noah.get(f"/messages/{channel.pk}/").content.decode()
    assert noah.get(file_url).status_code == 200


def test_attach_form_refusal_is_shown_on_the_page(person) -> None:
    """A file that is not a photo, sound or video is refused, and the page says why."""
    kari = signed_in(person, "kari.4a")
    conversation = actions.check_create_conversation(person("kari.4a"), "direct", "", ["mor.emma"]).conversation
    response = kari.post(f"/messages/{conversation.pk}/attach", {
        "file": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", content_type="image/png"),
        "nobody_identifiable": "true",
    }, follow=True)
    assert response.status_code == 200
    assert not Attachment.objects.filter(conversation=conversation).exists()
    assert "PNG, JPEG, WebP" in response.content.decode()


def test_r_pup_01_teacher_agrees_on_the_conversation_page(api_client, person) -> None:
    """R-PUP-01 without script: the teacher sees the pupil's held upload with Agree / Do not agree."""
    ola = api_client("ola.9b")
    conversation_id = post(ola, "/api/v1/conversations", {
        "kind": "group", "school_owned": True, "member_usernames": ["nils.9b", "sara.9b", "jonas.9b"]}).json()["id"]
    attachment_id = upload(api_client("sara.9b"), conversation_id, nobody=True).json()["id"]
    page = signed_in(person, "nils.9b").get(f"/messages/{conversation_id}/").content.decode()
    assert f'/messages/photos/{attachment_id}/agreement' in page
    assert f'/messages/photos/{attachment_id}/agreement' not in (
        signed_in(person, "jonas.9b").get(f"/messages/{conversation_id}/").content.decode())
    response = signed_in(person, "nils.9b").post(f"/messages/photos/{attachment_id}/agreement", {"agree": "yes"})
    assert response.status_code == 302
    assert Attachment.objects.get(pk=attachment_id).status == "visible"


def test_r_par_02_photos_are_stored_without_location_and_other_metadata(api_client, media_root) -> None:
    """R-PAR-02: a photo goes no further than the picture: it is decoded and re-encoded by Pillow, so
    EXIF (with location), comments and PNG text chunks are gone; the orientation is applied to the
    pixels, so a portrait photo is not shown sideways; the original is never stored."""
    kari = api_client("kari.4a")
    conversation_id = post(kari, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    original = jpeg_bytes(orientation=6)
    jpeg = upload(kari, conversation_id, nobody=True, content=original, name="tur.jpg").json()
    stored = stored_path(jpeg["id"], media_root).read_bytes()
    assert b"GPS 59.9139N" in original and b"GPS 59.9139N" not in stored
    assert b"taken at home" in original and b"taken at home" not in stored
    upright = Image.open(io.BytesIO(stored))
    assert upright.format == "JPEG" and upright.size == (2, 6)
    assert not upright.getexif()
    assert jpeg["size"] == len(stored)
    assert original not in b"".join(p.read_bytes() for p in media_root.rglob("*") if p.is_file())

    png = upload(kari, conversation_id, nobody=True, content=png_bytes(pad=50)).json()
    stored_png = stored_path(png["id"], media_root).read_bytes()
    assert b"tEXt" not in stored_png and pixels_of(stored_png) == pixels_of(png_bytes())

    webp = upload(kari, conversation_id, nobody=True, name="w.webp", content=webp_bytes()).json()
    stored_webp = stored_path(webp["id"], media_root).read_bytes()
    assert b"GPS 59" in webp_bytes() and b"GPS 59" not in stored_webp
    assert Image.open(io.BytesIO(stored_webp)).format == "WEBP"


def test_a_pixel_flood_is_refused_before_it_is_decoded(api_client, media_root) -> None:
    """A 30000 x 30000 PNG of under 1 MB (900 MB decoded) was accepted and sent to every member's
    phone; now it is refused with 413 before a pixel is decoded, and nothing is stored. A file that
    only starts like a photo is refused with 400."""
    kari = api_client("kari.4a")
    conversation_id = post(kari, "/api/v1/conversations",
                           {"kind": "direct", "member_usernames": ["mor.emma"]}).json()["id"]
    flood = png_bytes(width=30000, height=30000)
    assert len(flood) < 1024 * 1024
    refused = upload(kari, conversation_id, nobody=True, content=flood, name="flood.png")
    assert refused.status_code == 413 and refused.json()["error"] == "too_many_pixels"
    wide = png_bytes(width=20000, height=1)
    assert upload(kari, conversation_id, nobody=True, content=wide, name="wide.png").status_code == 413
    truncated = jpeg_bytes()[:200]
    assert upload(kari, conversation_id, nobody=True, content=truncated, name="t.jpg").json()["error"] == "bad_file"
    assert not [p for p in media_root.rglob("*") if p.is_file()]


def test_r_par_02_the_guardian_gets_a_neutral_notice_out_of_the_app(api_client, person) -> None:
    """R-PAR-02 / R-STAFF-06: mor.emma is told out of the app that something waits (a neutral notice
    naming nobody); the class is not."""
    from trygg.notifications.models import Notice
    from trygg.notifications.texts import notice_text

    channel = class_channel("4A")
    upload(api_client("kari.4a"), channel.pk, pictured=["emma.4a"])
    assert Notice.objects.filter(person=person("mor.emma"), kind="attachment_permission").exists()
    assert not Notice.objects.filter(person=person("noah.4a"), kind="attachment_permission").exists()
    subject, body = notice_text("nb", ["attachment_permission"], 0, False)
    for name in ("Emma", "Kari", "4A"):
        assert name not in subject + body


@pytest.mark.parametrize(
    ("who", "grade", "consent_grade", "expected"),
    [
        ("adult", None, 9, {"self"}),
        ("pupil", 4, 9, {"guardians"}),
        ("pupil", 9, 9, {"self"}),
        ("pupil", 10, 9, {"self"}),
        ("pupil", 8, 9, {"guardians"}),
        ("pupil", 10, 14, {"guardians"}),
    ],
)
def test_r_par_02_who_answers_for_someone_in_a_photo(who: str, grade: int | None, consent_grade: int,
                                                     expected: set[str]) -> None:
    """R-PAR-02, one row per case: adults answer for themselves; pupils from the municipality's grade
    answer for themselves; younger pupils through their guardians with parental responsibility."""
    from trygg.directory.models import PersonFacts
    from trygg.policy.rules.media import deciders_for

    roles = frozenset({"pupil"}) if who == "pupil" else frozenset({"teacher"})
    facts = PersonFacts(id=1, roles=roles, municipality_id=None, language="nb", grade=grade)
    answer = deciders_for(facts, {7, 8}, consent_grade)
    assert answer == ({1} if expected == {"self"} else {7, 8})


def test_r_pup_01_a_pupil_replies_with_a_photo_in_the_class_channel(api_client, person) -> None:
    """R-PUP-01: in the 4A channel emma.4a cannot post a photo on her own (teachers post there), but
    she can send one with her reply to kari.4a's announcement; it waits for kari to agree and then
    goes to kari only, as her text reply would."""
    channel = class_channel("4A")
    kari = api_client("kari.4a")
    announcement = post(kari, f"/api/v1/conversations/{channel.pk}/messages",
                        {"body": "Send bilde av tegningen din", "client_txn_id": "att-ann-1"}).json()
    emma = api_client("emma.4a")
    assert upload(emma, channel.pk, nobody=True).status_code == 403
    response = upload(emma, channel.pk, nobody=True, reply_to=str(announcement["id"]))
    assert response.status_code == 201, response.content
    assert response.json()["waiting_for_teacher"]
    assert post(kari, f"/api/v1/attachments/{response.json()['id']}/agreement", {"agree": True}).status_code == 200
    message = Message.objects.get(attachment_id=response.json()["id"])
    assert message.private_to == person("kari.4a") and message.reply_to_id == announcement["id"]
    assert attachment_ids_in(api_client("noah.4a"), channel.pk) == []
    assert attachment_ids_in(kari, channel.pk) == [response.json()["id"]]


def test_r_pup_01_a_held_pupil_upload_is_deleted_after_the_days_too(api_client, media_root,
                                                                     django_capture_on_commit_callbacks) -> None:
    """R-PUP-01: a pupil's upload nobody answered is not kept for ever: the days count from the upload."""
    ola = api_client("ola.9b")
    conversation_id = post(ola, "/api/v1/conversations", {
        "kind": "group", "school_owned": True, "member_usernames": ["nils.9b", "sara.9b", "jonas.9b"]}).json()["id"]
    attachment_id = upload(api_client("sara.9b"), conversation_id, nobody=True).json()["id"]
    path = stored_path(attachment_id, media_root)
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_used_pupil_media(timezone.now() + timedelta(days=1, minutes=5)) == 1
    assert not path.exists()
    assert Attachment.objects.get(pk=attachment_id).status == "deleted"


def test_attachment_event_schemas_forbid_extra_fields() -> None:
    """The attachment events carry only their designed fields (ids, and the attachment as its
    recipient may see it)."""
    from pydantic import ValidationError

    from trygg.events.payloads import validate_payload

    ok = {"attachment_id": 1, "conversation_id": 2, "person_id": 3}
    assert validate_payload("attachment.permission_requested", ok) == ok
    with pytest.raises(ValidationError):
        validate_payload("attachment.permission_requested", {**ok, "name": "Emma"})
    with pytest.raises(ValidationError):
        validate_payload("attachment.updated", {"conversation_id": 2, "attachment": {}, "body": "x"})
