"""Reading source files safely: size limits, symlinks, permissions and text encodings."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from ragtune.errors import LoadError

BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to ingest. ``path`` is as found (it may be a symlink); ``uri`` is its stable name."""

    path: Path

    @property
    def uri(self) -> str:
        return str(self.path.absolute())

    @property
    def suffix(self) -> str:
        name = self.path.name.lower()
        return Path(name).suffix

    def read_bytes(self, max_bytes: int) -> bytes:
        """The file's bytes, or a LoadError that says precisely why not."""
        path = self.path
        if path.is_symlink() and not path.exists():
            raise LoadError(f"broken symbolic link (points to {os.readlink(path)})")
        try:
            stat = path.stat()
        except PermissionError:
            raise LoadError("permission denied") from None
        except FileNotFoundError:
            raise LoadError("file not found") from None
        if not path.is_file():
            raise LoadError("not a regular file")
        if stat.st_size > max_bytes:
            raise LoadError(
                f"file is {human_size(stat.st_size)}, over the {human_size(max_bytes)} limit "
                "(ingest.max_file_bytes)"
            )
        if stat.st_size == 0:
            raise LoadError("empty file")
        try:
            with path.open("rb") as fh:
                data = fh.read(max_bytes + 1)
        except PermissionError:
            raise LoadError("permission denied") from None
        except OSError as exc:
            if exc.errno == errno.EISDIR:
                raise LoadError("is a directory") from None
            raise LoadError(f"cannot read: {exc.strerror or exc}") from None
        if len(data) > max_bytes:  # the file grew while we looked at it
            raise LoadError(f"file is over the {human_size(max_bytes)} limit (ingest.max_file_bytes)")
        return data


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes that should be text; returns (text, encoding).

    UTF-8 first (the common case, and unambiguous when it succeeds), then byte-order marks, then
    charset-normalizer's detection. NUL bytes without a UTF-16 BOM, or no plausible encoding,
    mean the content is binary and a LoadError says so.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return normalize_newlines(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise LoadError(f"invalid {encoding} text: {exc.reason}") from None
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise LoadError("binary content (NUL bytes) in a file with a text extension")
    try:
        return normalize_newlines(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    best = _detect(data)
    if best is None:
        raise LoadError("binary or undecodable content: no text encoding fits")
    text = str(best)
    if _control_ratio(text) > 0.05:
        raise LoadError("binary content: too many control characters to be text")
    return normalize_newlines(text), best.encoding


# When detection scores several encodings equally (short texts often do), take the one most
# widely used: Western-European Windows text is far more common than its Central-European twin.
_PREFERRED = ("cp1252", "latin_1", "iso8859_15", "cp1251", "shift_jis", "gb18030", "euc_kr", "big5")
_RANK = {name: i for i, name in enumerate(_PREFERRED)}


def _detect(data: bytes):  # type: ignore[no-untyped-def]
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(data) if m.encoding]
    if not matches:
        return None
    top = matches[0]
    tied = [m for m in matches if m.chaos == top.chaos and m.coherence == top.coherence]
    return min(tied, key=lambda m: _RANK.get(m.encoding, len(_RANK)))


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_ratio(text: str) -> float:
    sample = text[:BINARY_SNIFF_BYTES]
    if not sample:
        return 0.0
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls / len(sample)


def require_text(text: str, what: str = "file") -> str:
    if not text.strip():
        raise LoadError(f"no text: the {what} holds only whitespace")
    return text
