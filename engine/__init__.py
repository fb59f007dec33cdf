"""Minato's engine: storage, pipeline, search and sources; knows nothing of server or GUI."""

__version__ = "0.1.0"
