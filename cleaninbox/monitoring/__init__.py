"""Watching cleaninbox in production: metrics exposition (web and workers), scrape-time
collectors, liveness records and the health endpoints. Metrics themselves are declared in
cleaninbox.metrics."""
