"""Shared plumbing of every domain: web, database, security, sessions, throttling, outbound calls, formats, mail."""
