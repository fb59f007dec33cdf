"""What the live-search tests share: local sites and engines opened for a test, closed after it."""

from __future__ import annotations

from engine.core import Core
from tests.conftest import SettingsFactory
from tests.site_server import SAVED_SITES, GatedSite, SavedSite, SiteServer


class SiteEnv:
    """Started sites (saved pages on 127.0.0.1) and opened engines, closed by `close`."""

    def __init__(self, make_settings: SettingsFactory, database_url: str) -> None:
        self.make_settings = make_settings
        self.database_url = database_url
        self.sites: list[SiteServer | SavedSite] = []
        self.cores: list[Core] = []

    async def leetx(self) -> SiteServer:
        """1337x answering any search with its saved listing."""
        site = await SiteServer(pages=1).start()
        self.sites.append(site)
        return site

    async def saved(self, site_id: str, *, gated: bool = False) -> SavedSite:
        """A site made of its saved search page; `gated`: the search waits for `gate`."""
        pages = SAVED_SITES[site_id]
        site = await (GatedSite(pages) if gated else SavedSite(pages)).start()
        self.sites.append(site)
        return site

    async def close(self) -> None:
        """Close the engines (late crawls first), then the sites."""
        for core in self.cores:
            await core.aclose()
        for site in self.sites:
            await site.close()
