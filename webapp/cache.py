"""The shared Redis cache, failing open: with Redis down, pages keep working (sessions fall back to the database,
rate-limit and lockout counts are skipped, with a warning in the log) instead of every request failing."""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _forgiving(name: str, fallback):
    def method(self, *args, **kwargs):
        try:
            return getattr(super(ForgivingRedisCache, self), name)(*args, **kwargs)
        except _DOWN as exc:
            log.warning("cache unavailable (%s in %s); carrying on without it", type(exc).__name__, name)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    method.__name__ = name
    return method


class ForgivingRedisCache(RedisCache):
    get = _forgiving("get", lambda key, default=None, version=None: default)
    get_many = _forgiving("get_many", {})
    set = _forgiving("set", None)
    set_many = _forgiving("set_many", [])
    add = _forgiving("add", False)
    delete = _forgiving("delete", False)
    delete_many = _forgiving("delete_many", None)
    touch = _forgiving("touch", False)
    has_key = _forgiving("has_key", False)
    incr = _forgiving("incr", 1)
    clear = _forgiving("clear", None)
