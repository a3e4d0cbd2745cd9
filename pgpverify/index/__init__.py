"""Package-index client: the fetcher protocol, HTTP, the cache, the pgp/ layout.

Layout and trust model: ``../shared/design/index-layout.md``. Everything here takes the
current time as a parameter (``now``, seconds since the epoch); nothing reads the clock.
"""
