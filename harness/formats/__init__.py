"""Summary formats, one module per format, registered by name in ``FORMATS``."""

from harness.formats.base import FORMATS, FormatOptions, ParsedSummary, SummaryFormat

__all__ = ["FORMATS", "FormatOptions", "ParsedSummary", "SummaryFormat", "load_formats", "load_summary"]


def load_formats() -> None:
    """Import every bundled format module so that it registers itself."""
    from harness.formats import markdown, plain, summify, tldr_qa, wiki  # noqa: F401


def load_summary(path: str, fmt: str, options: FormatOptions, *, max_bytes: int = 5_000_000) -> "Summary":
    """Read a summary file and parse it with the format registered as ``fmt``.

    Raises:
        ConfigError: ``fmt`` is not a registered format.
        InputFileError: the file is unreadable, or does not look like the format.
    """
    from harness.textio import read_text_file
    from harness.types import Summary

    load_formats()
    parser = FORMATS.get(fmt)()
    source = read_text_file(path, max_bytes=max_bytes)
    parsed = parser.parse(source.text, str(path), options)
    return Summary(
        path=str(path),
        sha256=source.sha256,
        format=fmt,
        title=parsed.title,
        units=parsed.units,
        line_roles=parsed.line_roles,
    )
