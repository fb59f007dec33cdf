"""Storage: the SQLAlchemy schema, the database opener, the single writer and the reads."""
