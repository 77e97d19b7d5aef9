"""uvicorn's HTTP protocol with Zoom's JSON envelope on requests that fail to parse.

uvicorn answers a request line or header it cannot parse (a URL of 100 kB, raw non-ASCII bytes
in the path) with a plain-text 400 before any ASGI app runs. Clients detect Zoom errors by the
JSON `code` and `message`, so this protocol sends those instead.
"""

from __future__ import annotations

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from zoompac.domain.secrets import new_tracking_id

BAD_REQUEST_BODY = orjson.dumps(
    {
        "code": 300,
        "message": "Invalid HTTP request. Percent-encode every byte outside printable ASCII "
        "and keep the request line under 64 kB.",
    }
)


class ZoomHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        lines = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            lines += [name, b": ", value, b"\r\n"]
        lines += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(BAD_REQUEST_BODY)).encode() + b"\r\n",
            b"x-zm-trackingid: " + new_tracking_id().encode() + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            BAD_REQUEST_BODY,
        ]
        self.transport.write(b"".join(lines))
        self.transport.close()
