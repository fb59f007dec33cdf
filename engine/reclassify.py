"""Re-classification: run the (improved) classifier again over every stored torrent.

Titles, files and each source's own category are read back from the database,
classified in the worker processes (or in-process when there are none), and
only torrents whose classification changed are rewritten, through the single
writer, each with an outbox row so the search index follows.
"""

from __future__ import annotations

from concurrent.futures import Executor
from functools import partial

from sqlalchemy import Engine

from engine.models import Classification, ProgressCallback
from engine.pipeline import classify_chunk
from engine.store.reads import ClassifyInput, classification_inputs, hash_pages, torrent_count
from engine.store.upsert import replace_classifications
from engine.store.writer import Writer

_PAGE = 2000
_CHUNK = 200  # titles per worker task


def reclassify_all(
    reader: Engine,
    writer: Writer,
    executor: Executor | None,
    progress: ProgressCallback | None = None,
) -> tuple[int, int]:
    """Classify every torrent again; returns (torrents examined, torrents changed)."""
    with reader.connect() as conn:
        total = torrent_count(conn)
    if progress:
        progress(0, total)
    done = changed = 0
    with reader.connect() as conn:
        for hashes in hash_pages(conn, _PAGE):
            inputs = classification_inputs(conn, hashes)
            results = _classify(inputs, executor)
            changed += writer.call(partial(replace_classifications, results=results)).result()
            done += len(hashes)
            if progress:
                progress(done, total)
    return done, changed


def _classify(
    inputs: list[ClassifyInput], executor: Executor | None
) -> list[tuple[str, Classification]]:
    chunks = [inputs[i : i + _CHUNK] for i in range(0, len(inputs), _CHUNK)]
    payloads = [[(item.title, item.files, item.category) for item in chunk] for chunk in chunks]
    answers = (
        executor.map(classify_chunk, payloads)
        if executor is not None
        else map(classify_chunk, payloads)
    )
    results: list[tuple[str, Classification]] = []
    for chunk, found in zip(chunks, answers, strict=True):
        results.extend(
            (item.info_hash, cls) for item, cls in zip(chunk, found, strict=True) if cls is not None
        )
    return results
