"""Reading untrusted input files and writing outputs atomically."""

from __future__ import annotations

import hashlib
import os

import pytest

from harness.errors import InputFileError
from harness.textio import atomic_write_json, atomic_write_text, read_text_file

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.mark.parametrize(
    "name, data, problem",
    [
        ("empty.md", b"", "file is empty"),
        ("blank.md", b"  \n\t\n ", "file contains only whitespace"),
        ("image.png", PNG, "file looks binary"),
        ("utf16.md", "Hello world".encode("utf-16"), "file is UTF-16 encoded"),
        ("latin1.md", "Caf\u00e9 au lait, na\u00efve.".encode("latin-1"), "not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("badbytes.md", b"ok \xff\xfe\xfd then text", "not valid UTF-8 (byte 0xff at offset 3)"),
    ],
)
def test_unusable_files_are_rejected_naming_file_and_problem(tmp_path, name, data, problem):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputFileError) as info:
        read_text_file(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ") and problem in message
    assert "\n" not in message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        read_text_file(tmp_path / "nope.md")
    with pytest.raises(InputFileError, match="is a directory"):
        read_text_file(tmp_path)


def test_too_large_file_is_rejected_not_truncated(tmp_path):
    path = tmp_path / "big.md"
    path.write_bytes(b"word " * 3000)
    with pytest.raises(InputFileError, match=r"file is too large \(15,000 bytes; the limit is 10,000"):
        read_text_file(path, max_bytes=10_000)


def test_utf8_bom_is_removed_and_hash_is_of_raw_bytes(tmp_path):
    path = tmp_path / "bom.md"
    path.write_bytes(b"\xef\xbb\xbfHello \xe2\x9c\x93\n")
    source = read_text_file(path)
    assert source.text == "Hello \u2713\n"
    assert source.sha256 == hashlib.sha256(b"\xef\xbb\xbfHello \xe2\x9c\x93\n").hexdigest()
    assert source.size_bytes == 13


def test_cyrillic_cjk_and_emoji_are_text(tmp_path):
    path = tmp_path / "intl.md"
    path.write_text("Привет мир. 你好，世界。 🧠 Deep learning.\n", encoding="utf-8")
    assert "你好" in read_text_file(path).text


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out" / "report.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2]})
    assert target.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["report.json"]


def test_failed_write_keeps_previous_file(tmp_path):
    target = tmp_path / "report.json"
    atomic_write_text(target, "previous")

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(target, {"x": Unserialisable()})
    assert target.read_text() == "previous"
    assert os.listdir(tmp_path) == ["report.json"]
