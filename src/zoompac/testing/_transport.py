"""A synchronous httpx transport that calls an ASGI app in this process, without sockets."""

from __future__ import annotations

import asyncio
import threading

import httpx
from starlette.types import ASGIApp


class InProcessTransport(httpx.BaseTransport):
    """Run each request through `httpx.ASGITransport` on an event loop in a helper thread.

    httpx only ships an async ASGI transport; the helper loop lets synchronous clients and
    tests use it, over the same app object, and so the same state, as the HTTP server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        future = asyncio.run_coroutine_threadsafe(self._send(request), self._loop)
        return future.result()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()
