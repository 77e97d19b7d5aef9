"""Zoom's rules for accounts, apps, tokens, users and PAC accounts, free of HTTP and SQL."""
