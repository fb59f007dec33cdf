"""Logging setup: stdlib logging to stderr, with secrets redacted from every line.

API keys travel in query strings (`apikey=`), workers send an internal secret,
and database URLs can carry passwords: the filter masks them all, whatever
module logs them, so a pasted log never leaks a credential.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

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


LOG_FILE_BYTES = 5 * 1024 * 1024
"""A log file is rotated at this size; `LOG_FILE_KEEP` older ones are kept."""
LOG_FILE_KEEP = 3


def configure_logging(level: int = logging.INFO, log_file: Path | None = None) -> None:
    """One stderr handler on the root logger, with redaction; `log_file` adds a file too.

    The window has no terminal to read, so it logs to a rotating file in the data dir
    as well (at INFO, whatever the stderr level): its crash dialog names that file.
    """
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(level)
    handlers: list[logging.Handler] = [stderr]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_KEEP, encoding="utf-8"
            )
        )
    for handler in handlers:
        when = "%H:%M:%S" if handler is stderr else "%Y-%m-%d %H:%M:%S"  # files outlive a day
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", when)
        )
        handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(min(level, logging.INFO) if log_file is not None else level)
    for noisy in ("alembic", "rebulk", "guessit"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
