"""Ingest: JSON records, NDJSON streams and .torrent files into the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.errors import InvalidRecord
from engine.models import IngestReport, RawRecord, Rejection
from engine.normalize import plausible_date
from engine.pipeline import Pipeline
from engine.records import (
    check_source,
    decode_json,
    decode_json_array,
    decode_ndjson,
    parse_record,
)
from engine.torrent import parse_torrent

DEFAULT_UPLOAD_SOURCE = "upload"


class IngestService:
    """What the ingest API, the CLI and workers call to add torrents."""

    def __init__(self, pipeline: Pipeline, *, max_records: int, max_torrent_bytes: int) -> None:
        self._pipeline = pipeline
        self.max_records = max_records
        self.max_torrent_bytes = max_torrent_bytes

    async def ingest_one(self, body: bytes) -> IngestReport:
        """One record, a JSON object.

        Raises:
            InvalidRecord: the body or the record is refused; nothing was stored.
        """
        return await self._submit_one(parse_record(decode_json(body)))

    async def ingest_items(self, items: Sequence[Any | InvalidRecord]) -> IngestReport:
        """Many records; each bad one is rejected with its index, the others are stored.

        Raises:
            InvalidRecord: more records than the configured maximum (field "body").
        """
        if len(items) > self.max_records:
            raise InvalidRecord(
                "body", f"{len(items)} records, more than the limit of {self.max_records}"
            )
        raws: list[tuple[int, RawRecord]] = []
        rejected: list[Rejection] = []
        for index, item in enumerate(items):
            if isinstance(item, InvalidRecord):
                rejected.append(Rejection(index=index, error=str(item)))
                continue
            try:
                raws.append((index, parse_record(item)))
            except InvalidRecord as exc:
                rejected.append(Rejection(index=index, error=str(exc)))
        return await self._pipeline.submit(raws, rejected)

    async def ingest_json(self, body: bytes) -> IngestReport:
        """A JSON array of records (raises InvalidRecord when the body is not one)."""
        return await self.ingest_items(decode_json_array(body))

    async def ingest_ndjson(self, body: bytes) -> IngestReport:
        """NDJSON: one record per line; a malformed line is rejected with its index."""
        return await self.ingest_items(decode_ndjson(body))

    async def ingest_torrent(
        self, data: bytes, source: str = DEFAULT_UPLOAD_SOURCE
    ) -> IngestReport:
        """A .torrent file: parsed with libtorrent, kept so it can be served back.

        Raises:
            InvalidTorrent: libtorrent refuses the file (its reason is in the message).
            InvalidRecord: the source name is not acceptable.
        """
        parsed = parse_torrent(data, max_bytes=self.max_torrent_bytes)
        raw = RawRecord(
            source=check_source(source),
            title=parsed.name,
            info_hash=parsed.info_hash,
            size=parsed.total_size,
            files=parsed.files,
            trackers=parsed.trackers,
            published_at=plausible_date(parsed.creation_date),
            description=parsed.comment or None,
            metainfo=parsed.metainfo,
        )
        return await self._submit_one(raw)

    async def _submit_one(self, raw: RawRecord) -> IngestReport:
        """Store one record, or raise its rejection (a single record has no partial success)."""
        report = await self._pipeline.submit([(0, raw)])
        if report.rejected:
            field, _, reason = report.rejected[0].error.partition(": ")
            raise InvalidRecord(field, reason)
        return report
