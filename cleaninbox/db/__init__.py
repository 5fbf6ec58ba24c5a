"""Django's PostgreSQL backend, waiting out a server restart when it connects (see base)."""
