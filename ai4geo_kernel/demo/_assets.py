"""The demo asset server: static files under one root, with HTTP Range (206) answers for GDAL's /vsicurl.

Run as ``python -m ai4geo_kernel.demo._assets ROOT`` by :func:`ai4geo_kernel.demo.serve`; it binds
127.0.0.1 on a port the OS chooses and prints that port on its first stdout line, so no port is raced for.
``rangehttpserver`` provides the Range handling (``python -m http.server`` ignores Range); this module only
adds the root folder, the loopback bind, threading and quiet logs.
"""

from __future__ import annotations

import argparse
import functools
import sys
from http.server import ThreadingHTTPServer

from RangeHTTPServer import RangeRequestHandler

__all__ = ["main"]


class _Handler(RangeRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return None  # one line per tile read would flood the log

    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(403, "directory listing is disabled")
        return None


def main(argv: list[str] | None = None) -> None:
    """Serve ``root`` on 127.0.0.1 until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    handler = functools.partial(_Handler, directory=args.root)
    with ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        server.daemon_threads = True
        print(server.server_address[1], flush=True)
        sys.stdout.close()
        server.serve_forever()


if __name__ == "__main__":
    main()
