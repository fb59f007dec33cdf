"""JSON-API sources: one small module per API (EZTV, YTS, Knaben, apibay), and their crawler."""
