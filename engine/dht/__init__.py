"""The DHT crawler: how Minato finds torrents that no website lists.

A libtorrent session runs as a DHT node (`node`), its alerts turned into plain
events on a thread of their own (`events`). The crawler (`crawler`) asks other
nodes for samples of the info hashes they store (BEP 51, `sampler`), listens to
the lookups and announces that reach it, remembers what it has seen (`seen`),
and fetches only the metadata of new hashes from the peers the DHT names
(`fetcher`: BEP 9/10, never content). Each resolved torrent goes into the normal
pipeline with its files, as a record of source "dht". `figures` keeps the counts
and rates the API, the CLI and the window show.
"""
