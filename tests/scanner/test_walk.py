"""The walker against hostile input: traversal, bombs, nesting, links, corrupt and encrypted archives."""

import gzip
import io
import os
import tarfile
import zipfile

import pytest

from garde.scanner.model import Limits
from garde.scanner.walk import Issue, Item, Walker


def walk(tmp_path, *inputs, **limits):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    events = list(Walker(work, Limits(**limits)).walk(list(inputs)))
    items = [e for e in events if isinstance(e, Item)]
    issues = [e for e in events if isinstance(e, Issue)]
    return items, issues


def test_it_never_writes_outside_the_work_folder_on_zip_slip(tmp_path):
    archive = tmp_path / "in" / "slip.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escaped.txt", "M. Paul Durand")
        z.writestr("/etc/absolute.txt", "x")
    items, issues = walk(tmp_path, archive.parent)
    assert not (tmp_path / "escaped.txt").exists() and not list(tmp_path.parent.glob("escaped.txt"))
    assert {i.logical for i in items if not i.container} == {"in/slip.zip!/escaped.txt", "in/slip.zip!/etc/absolute.txt"}
    assert sum("path traversal" in i.reason for i in issues) == 2


def test_it_stops_a_zip_bomb_on_the_expansion_ratio(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", b"\0" * (20 << 20))
    _, issues = walk(tmp_path, archive, max_ratio=100, ratio_floor=1 << 20)
    assert any("zip bomb" in i.reason for i in issues)
    assert not any((tmp_path / "work").iterdir())


def test_it_stops_at_the_total_expansion_limit(tmp_path):
    archive = tmp_path / "big.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for n in range(3):
            data = os.urandom(300_000)
            info = tarfile.TarInfo(f"f{n}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _, issues = walk(tmp_path, archive, max_total_bytes=500_000)
    assert any("total expansion limit" in i.reason for i in issues)


def test_it_limits_nesting_depth(tmp_path):
    payload = b"IPP : 00123456"
    name = "leaf.txt"
    for level in range(5):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(name, payload)
        payload, name = buffer.getvalue(), f"level{level}.zip"
    (tmp_path / name).write_bytes(payload)
    items, issues = walk(tmp_path, tmp_path / name, max_depth=3)
    assert any("nested deeper than 3" in i.reason for i in issues)
    assert not any(i.logical.endswith("leaf.txt") for i in items)


def test_it_does_not_follow_symlinks_out_of_the_input(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("NIR 2 55 08 14 168 025 38")
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "a.txt").write_text("rien")
    os.symlink(secret, dump / "link.txt")
    os.symlink(tmp_path, dump / "loop")
    items, issues = walk(tmp_path, dump)
    assert [i.logical for i in items] == ["dump/a.txt"]
    assert {i.logical for i in issues} == {"dump/link.txt", "dump/loop"}
    assert all("outside the input" in i.reason for i in issues)


def test_it_skips_links_and_devices_inside_tar(tmp_path):
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        link = tarfile.TarInfo("etc-passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    items, issues = walk(tmp_path, archive)
    assert [i.container for i in items] == ["tar"]
    assert "not followed" in issues[0].reason


def test_it_records_a_corrupt_archive_and_goes_on(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("a.txt", "x" * 1000)
    (dump / "a_broken.zip").write_bytes(good.getvalue()[:60] + b"garbage" * 10)
    (dump / "b.txt").write_text("still scanned")
    items, issues = walk(tmp_path, dump)
    assert any(i.logical == "dump/a_broken.zip" and "corrupt" in i.reason for i in issues)
    assert "dump/b.txt" in [i.logical for i in items]


def test_it_reports_encrypted_zip_members(tmp_path):
    archive = tmp_path / "locked.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("secret.csv", b"not really encrypted but flagged as such")
    data = bytearray(buffer.getvalue())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1  # the "encrypted" bit of the general purpose flags
    data[central + 8] |= 0x1
    archive.write_bytes(bytes(data))
    _, issues = walk(tmp_path, archive)
    assert [(i.kind, i.logical) for i in issues] == [("encrypted", "locked.zip!/secret.csv")]


def test_it_opens_gz_tar_and_7z(tmp_path):
    py7zr = pytest.importorskip("py7zr")
    (tmp_path / "note.txt.gz").write_bytes(gzip.compress(b"IPP 123456"))
    with py7zr.SevenZipFile(tmp_path / "pack.7z", "w") as archive:
        archive.writestr(b"Tel 06 12 34 56 78", "inner/phone.txt")
    items, issues = walk(tmp_path, tmp_path / "note.txt.gz", tmp_path / "pack.7z")
    assert not issues
    assert [i.logical for i in items if not i.container] == ["note.txt.gz!/note.txt", "pack.7z!/inner/phone.txt"]


def test_it_does_not_open_office_documents_as_archives(tmp_path):
    document = tmp_path / "lettre.docx"
    with zipfile.ZipFile(document, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:p><w:t>Mme Claire Martin</w:t></w:p>")
    items, _ = walk(tmp_path, document)
    assert [(i.logical, i.container) for i in items] == [("lettre.docx", None)]
