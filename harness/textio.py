"""Reading input files safely and writing outputs atomically.

Inputs are untrusted: a file may be missing, empty, binary, in a legacy encoding or huge. Every
such case becomes an ``InputFileError`` naming the file and the problem. Outputs are written to a
temporary file in the same directory and renamed, so an interrupted run never leaves a
half-written file behind and never destroys the previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.errors import InputFileError

DEFAULT_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class TextFile:
    """A decoded text input.

    Attributes:
        path: the path as given.
        text: the decoded text (UTF-8; a UTF-8 BOM is removed).
        sha256: hex digest of the raw bytes.
        size_bytes: size of the raw file.
    """

    path: str
    text: str
    sha256: str
    size_bytes: int


def read_text_file(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> TextFile:
    """Read a UTF-8 text file, rejecting anything that is not usable text.

    Args:
        path: file to read.
        max_bytes: largest accepted size; larger files are rejected, not truncated.

    Raises:
        InputFileError: missing, a directory, too large, empty, binary, or not valid UTF-8.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "file not found")
    if p.is_dir():
        raise InputFileError(p, "is a directory, expected a text file")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputFileError(
            p, f"file is too large ({size:,} bytes; the limit is {max_bytes:,}, set by max_input_bytes)"
        )
    raw = p.read_bytes()
    if not raw.strip():
        raise InputFileError(p, "file is empty" if not raw else "file contains only whitespace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(p, "file is UTF-16 encoded; convert it to UTF-8")
    if b"\x00" in raw[:8192]:
        raise InputFileError(p, "file looks binary (contains NUL bytes), expected UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            p, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); convert it to UTF-8"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 1000):
        raise InputFileError(p, f"file looks binary ({controls} control characters), expected text")
    return TextFile(path=str(path), text=text, sha256=hashlib.sha256(raw).hexdigest(), size_bytes=size)


def read_jsonl_objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Read a JSONL file as ``(line_no, object)`` pairs, skipping blank lines.

    The file is decoded as UTF-8 (a BOM is removed); line numbers are 1-based.

    Raises:
        InputFileError: an unreadable file, bytes that are not UTF-8, a line that is not JSON,
            or a line that is JSON but not an object.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not valid UTF-8 (offset {exc.start})") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"line {line_no}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputFileError(path, f"line {line_no}: expected a JSON object, got {type(obj).__name__}")
        rows.append((line_no, obj))
    return rows


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are meant to be shared and served
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 kept, trailing newline."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as deterministic JSON, atomically."""
    atomic_write_text(path, dumps_json(obj))


def atomic_write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> None:
    """Write one compact, key-sorted JSON object per line, atomically."""
    lines = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
