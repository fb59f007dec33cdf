"""The in-process HTTP server (aiohttp): JSON API, ingest and, later, Torznab.

Imports only `engine.services`, `engine.models` and `engine.errors`.
"""
