"""Photos on incidents: JPEG, PNG, WebP by content and decoded whole, at most 10 MB, stored under the configured
directory, downloaded under a name with no path in it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from service.incidents.photos import download_name, sniff_image
from tests.conftest import Principals
from tests.support.images import JPEG_16x16, WEBP_16x16, png
from tests.support.incidents import API, XINYUAN, error_of, get, open_incident, police_call

TEN_MB = 10 * 1024 * 1024


def _files(directory: Path, pattern: str) -> list[Path]:
    return sorted(directory.rglob(pattern))


def test_images_are_told_by_their_bytes() -> None:
    for data, content_type in ((JPEG_16x16, "image/jpeg"), (png(), "image/png"), (WEBP_16x16, "image/webp")):
        kind = sniff_image(data)
        assert kind is not None and kind.content_type == content_type
    for not_an_image in (b"", b"\xff\xd8", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"GIF89a" + b"\x00" * 20, b"<svg/>"):
        assert sniff_image(not_an_image) is None


async def test_photos_upload_store_and_download(
    client: httpx.AsyncClient, principals: Principals, registry: None, attachments_dir: Path
) -> None:
    op = principals.operator
    incident_id = (await open_incident(client, principals.police, police_call(XINYUAN, "noise")))["id"]
    await client.post(f"{API}/incidents/{incident_id}/assign", json={"assignee": "insp"}, headers=op)
    url = f"{API}/incidents/{incident_id}/attachments"

    uploads = [
        ("现场.jpg", JPEG_16x16, "image/jpeg", principals.inspector),
        ("after.png", png(), "image/png", op),
        # The declared type is not trusted: a WebP sent as octet-stream is still a WebP.
        ("phone-upload", WEBP_16x16, "application/octet-stream", principals.inspector),
    ]
    stored = []
    for name, data, declared, who in uploads:
        response = await client.post(url, files={"file": (name, data, declared)}, headers=who)
        assert response.status_code == 201, response.text
        stored.append((response.json(), data))
    assert [a["content_type"] for a, _ in stored] == ["image/jpeg", "image/png", "image/webp"]
    assert [a["uploaded_by"] for a, _ in stored] == ["insp", "op", "insp"]

    # On disk under the configured directory, named by content; downloads give the same bytes back.
    for attachment, data in stored:
        digest = hashlib.sha256(data).hexdigest()
        on_disk = _files(attachments_dir, f"{digest}.*")
        assert len(on_disk) == 1 and on_disk[0].read_bytes() == data
        response = await client.get(attachment["url"], headers=principals.inspector)
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == attachment["content_type"]
    assert _files(attachments_dir, "*.part") == []

    # Not a photo, whatever its name says: 415. Too large: 413. Neither is stored or recorded.
    response = await client.post(url, files={"file": ("notes.jpg", "这不是照片".encode(), "image/jpeg")}, headers=op)
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    big = JPEG_16x16 + b"\x00" * (TEN_MB + 1 - len(JPEG_16x16))
    response = await client.post(url, files={"file": ("big.jpg", big, "image/jpeg")}, headers=op)
    assert response.status_code == 413
    assert error_of(response)["details"] == [
        {"field": "file", "reason": f"{len(big)} bytes; photos are limited to 10 MB"}
    ]
    exactly_ten = JPEG_16x16 + b"\x01" * (TEN_MB - len(JPEG_16x16))
    response = await client.post(url, files={"file": ("ten.jpg", exactly_ten, "image/jpeg")}, headers=op)
    assert response.status_code == 201
    assert len(_files(attachments_dir, "*.*")) == 4

    # Every photo is a ledger event; the incident lists them.
    detail = await get(client, op, f"/incidents/{incident_id}")
    assert [a["filename"] for a in detail["attachments"]] == ["现场.jpg", "after.png", "phone-upload", "ten.jpg"]
    added = [e for e in detail["events"] if e["type"] == "attachment_added"]
    assert [(e["actor"], e["data"]["content_type"]) for e in added] == [
        ("insp", "image/jpeg"),
        ("op", "image/png"),
        ("insp", "image/webp"),
        ("op", "image/jpeg"),
    ]
    assert (await client.get(f"{API}/incidents/{incident_id}/attachments/999", headers=op)).status_code == 404
    assert (await client.get(stored[0][0]["url"], headers=principals.inspector2)).status_code == 403


async def test_a_photo_must_decode_whole_not_only_start_right(
    client: httpx.AsyncClient, principals: Principals, registry: None, attachments_dir: Path
) -> None:
    op = principals.operator
    incident_id = (await open_incident(client, principals.police, police_call(XINYUAN, "noise")))["id"]
    url = f"{API}/incidents/{incident_id}/attachments"
    photos = {"JPEG": JPEG_16x16, "PNG": png(8, 8), "WebP": WEBP_16x16}
    for kind, data in photos.items():
        for cut in (len(data) // 2, len(data) - 40):  # valid magic bytes, the rest missing
            response = await client.post(url, files={"file": (f"cut.{kind}", data[:cut], "image/jpeg")}, headers=op)
            error = error_of(response)
            assert response.status_code == 422, (kind, cut, response.text)
            assert error["details"][0]["field"] == "file"
            assert (
                f"does not decode as the {kind}" in error["details"][0]["reason"]
                or "cannot be read" in error["details"][0]["reason"]
            ), error
    # A JPEG header before anything else, and a PNG whose pixel data fails its checksum.
    behind_a_header = JPEG_16x16[:20] + b"<?php system($_GET['c']); ?>" * 8
    broken_crc = bytearray(png(8, 8))
    broken_crc[-20] ^= 0xFF  # inside the IDAT chunk
    for data in (behind_a_header, bytes(broken_crc)):
        response = await client.post(url, files={"file": ("x.jpg", data, "image/jpeg")}, headers=op)
        assert response.status_code == 422, response.text
        assert error_of(response)["details"][0]["field"] == "file"
    assert _files(attachments_dir, "*.*") == []  # nothing refused is kept
    detail = await get(client, op, f"/incidents/{incident_id}")
    assert detail["attachments"] == []
    assert not [e for e in detail["events"] if e["type"] == "attachment_added"]


def test_download_names_keep_no_path_and_no_control_character() -> None:
    assert download_name("..\\..\\evil.png", "f.png") == "evil.png"
    assert download_name("a/b.png", "f.png") == "b.png"
    assert download_name("C:\\Users\\me\\现场.jpg", "f.png") == "现场.jpg"
    assert download_name("..", "f.png") == "f.png"
    assert download_name("/", "f.png") == "f.png"
    assert download_name("a\x00b\r\nc.png", "f.png") == "abc.png"
    assert download_name("photo\u202egnp.exe", "f.png") == "photognp.exe"  # no right-to-left override


async def test_stored_and_downloaded_names_have_no_path(
    client: httpx.AsyncClient, principals: Principals, registry: None, attachments_dir: Path
) -> None:
    op = principals.operator
    incident_id = (await open_incident(client, principals.police, police_call(XINYUAN, "noise")))["id"]
    url = f"{API}/incidents/{incident_id}/attachments"
    for sent, kept in (("..\\..\\evil.png", "evil.png"), ("a/b.png", "b.png"), ('x";\r\nSet-Cookie: a=b.png', None)):
        response = await client.post(url, files={"file": (sent, png(), "image/png")}, headers=op)
        assert response.status_code == 201, response.text
        name = response.json()["filename"]
        assert "/" not in name and "\\" not in name and "\r" not in name and "\n" not in name
        if kept is not None:
            assert name == kept
        download = await client.get(response.json()["url"], headers=op)
        assert download.status_code == 200
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "/" not in disposition.split("filename", 1)[1] and "\\" not in disposition
        assert "set-cookie" not in {k.lower() for k in download.headers if k.lower() != "content-disposition"}
    assert [p.parent.name for p in _files(attachments_dir, "*.png")] == [str(incident_id)]  # one file, by content
