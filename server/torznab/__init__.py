"""The Torznab API (`/torznab/{indexer}/api`) that Sonarr, Radarr, Lidarr and Prowlarr use."""
