"""``pgpverify audit``: audit the ``.asc`` files an index holds, into a resumable archive.

- :mod:`pgpverify.audit.categories`: the one category of each file;
- :mod:`pgpverify.audit.store`: the SQLite store (progress and archive);
- :mod:`pgpverify.audit.sources`: index or mirror, project lists, shards, rate limit;
- :mod:`pgpverify.audit.judge`: two verdicts per file with the ``verify`` code;
- :mod:`pgpverify.audit.runner`: ``run`` and ``run --from-store``;
- :mod:`pgpverify.audit.report`: JSON, CSV and HTML;
- :mod:`pgpverify.audit.export`: ``export-signatures``.
"""

from __future__ import annotations
