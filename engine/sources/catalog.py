"""The sites Minato knows: their settings and, for HTML sites, their definitions, loaded once.

Built-in definitions ship in `engine/sources/html/definitions`; a user adds a site
with the same shape as a built-in one by dropping a definition file in the `sites`
directory beside the settings file (its `defaults:` give mirrors and schedule,
which `[sites.<id>]` in the settings may override like any other site's). No
Python is needed for that. Everything is checked at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.site_config import SiteConfig, load_site_configs
from engine.sources.html.definition import (
    BUILTIN_DEFINITIONS,
    SiteDefinition,
    load_definitions,
)


@dataclass(frozen=True, slots=True)
class SiteCatalog:
    """Every site's settings, and the definitions of the HTML ones."""

    configs: Mapping[str, SiteConfig]
    definitions: Mapping[str, SiteDefinition]


def user_definitions_dir(config_path: Path) -> Path:
    """Where a user's own site definitions live: `sites/` beside the settings file."""
    return config_path.parent / "sites"


def load_catalog(
    settings: Settings,
    *,
    config_path: Path,
    builtin_definitions: Path = BUILTIN_DEFINITIONS,
) -> SiteCatalog:
    """Load the definitions (built-in, then the user's) and every site's settings.

    Raises:
        ConfigError: a bad definition file or site setting (naming the file and key).
    """
    definitions = load_definitions(builtin_definitions, user_definitions_dir(config_path))
    extra: dict[str, tuple[Path, Mapping[str, Any]]] = {
        site_id: (definition.path, definition.defaults)
        for site_id, definition in definitions.items()
    }
    configs = load_site_configs(settings, config_path=config_path, extra=extra)
    return SiteCatalog(configs=configs, definitions=definitions)
