"""The benchmark's baseline: a bare Starlette app that returns Zoom's sample PAC list for any path.

It runs on the ASGI server settings that `zoompac serve` uses (uvicorn, one worker, uvloop,
httptools, access log off, no `server` header, a `date` header). The gap between this app and
zoompac is therefore what zoompac's own request path costs.

    python bench/baseline_app.py --port 8091
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# Zoom's published sample response for `GET /v2/users/{userId}/pac`, compact as zoompac sends it.
ZOOM_SAMPLE_BODY = (
    b'{"pac_accounts":[{"dedicated_dial_in_number":[{"number":"123343434","country":"USA"}],'
    b'"global_dial_in_numbers":[{"number":"434343434","country":"USA"}],'
    b'"conference_id":"111111","participant_password":"ghdf","listen_only_password":"hkgk"}]}'
)


async def sample_body(_request: Request) -> Response:
    return Response(ZOOM_SAMPLE_BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", sample_body, methods=["GET"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=False,
        server_header=False,
        date_header=True,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
