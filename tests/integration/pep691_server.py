"""A static PEP 691 index on 127.0.0.1 for the audit tests: ``python pep691_server.py PORT DIR``.

Like ``python -m http.server``, but a directory is served as its ``index.v1_json``
(``application/vnd.pypi.simple.v1+json``: PEP 691 pages carry upload times) when it has
one, else as its ``index.html``; ``--delay S`` slows each answer (to kill a run mid-way).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import time
from pathlib import Path


class Handler(http.server.SimpleHTTPRequestHandler):
    #: keep-alive, as real indexes do (HTTP/1.0 would cost a connection per request)
    protocol_version = "HTTP/1.1"
    #: headers and body go in separate writes: without this, Nagle and delayed ACKs add
    #: 40 ms to every answer on a kept-alive connection
    disable_nagle_algorithm = True
    delay = 0.0

    def send_head(self):
        time.sleep(self.delay)
        path = Path(self.translate_path(self.path))
        if path.is_dir() and (path / "index.v1_json").is_file() and self.path.endswith("/"):
            body = (path / "index.v1_json").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            import io

            return io.BytesIO(body)
        return super().send_head()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("directory")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    Handler.delay = args.delay
    handler = functools.partial(Handler, directory=args.directory)
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
