"""HTML torrent sites: definitions as data (`definitions/*.yml`), parser, hooks, the crawl."""
