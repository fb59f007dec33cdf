"""Search backends: the `SearchIndex` protocol and its implementations (derived from the database)."""
