"""Running the real `minato` command in a test: its own data dir and config, no public host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.server.conftest import MINATO


def run_minato(home: Path, config: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `minato ARGS` with data in `home/data` and `config`.

    Enrichment and classification are off unless `env` turns them on (they are slow, and
    enrichment reaches public services); other `MINATO_*` variables of the caller's
    environment are dropped, so the test decides every setting.
    """
    full = {k: v for k, v in os.environ.items() if not k.startswith("MINATO_")}
    full.update(
        MINATO_DATA_DIR=str(home / "data"),
        MINATO_CONFIG=str(config),
        MINATO_ENRICH__ENABLED="false",
        MINATO_PIPELINE__CLASSIFY="false",
    )
    full.update(env)
    done = subprocess.run(
        [str(MINATO), *args], env=full, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout, done.stderr
