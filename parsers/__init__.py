"""Pure parsers for cable texts, cable-site pages, the public dump and chat messages (no I/O)."""
