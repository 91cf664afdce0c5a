"""Fixtures of the store tests: the Redis Cluster of `tests.redis_cluster_fixtures` (the single-server
fixtures come from `tests.redis_fixtures`, registered in tests/conftest.py)."""

from tests.redis_cluster_fixtures import cluster_url, redis_cluster

__all__ = ["cluster_url", "redis_cluster"]
