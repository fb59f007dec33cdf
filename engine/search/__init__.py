"""Search backends: the `SearchIndex` protocol and its implementations (derived data)."""
