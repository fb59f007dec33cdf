"""Logging setup: stdlib logging to stderr, with secrets redacted from every line.

API keys travel in query strings (`apikey=`), workers send an internal secret,
and database URLs can carry passwords: the filter masks them all, whatever
module logs them, so a pasted log never leaks a credential.
"""

from __future__ import annotations

import logging
import re
import sys

_PATTERNS = (
    (
        # apikey, api_key, jackett_apikey; the personal keys of private trackers' feed URLs
        re.compile(
            r"(?i)((?:[a-z_]*api_?key|passkey|torrent_pass|authkey|rsskey|secret_key)=)"
            r"[^&\s\"']+"
        ),
        r"\1***",
    ),
    (
        re.compile(r"(?i)(x-api-key|x-internal-secret)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
        r"\1\2***",
    ),
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+@"), r"\1***@"),
)


_TRACEBACKS = logging.Formatter()


class RedactSecrets(logging.Filter):
    """Masks API keys, internal secrets and URL passwords in log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message in place; never drops a record."""
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Tracebacks quote request lines and URLs too (aiohttp's LineTooLong does).
            record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact(text: str) -> str:
    """`text` with every known kind of secret masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def configure_logging(level: int = logging.INFO) -> None:
    """One stderr handler on the root logger, with redaction."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic", "rebulk", "guessit"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
