"""Persistence of stepmap's records in Redis (key templates in :mod:`orchestrator.store.keys`)."""
