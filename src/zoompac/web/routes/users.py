"""The Users API routes: list users, get a user, get a user's settings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from zoompac.domain import users
from zoompac.domain.models import Grant, User, UserStatus
from zoompac.domain.ratelimits import Label
from zoompac.web.endpoint import user_ref_param, zoom_api
from zoompac.web.responses import JSONResponse
from zoompac.web.runtime import Runtime


@zoom_api(Label.MEDIUM)
def list_users(request: Request, runtime: Runtime, grant: Grant) -> Response:
    query = request.query_params
    page = users.list_users(
        runtime.store,
        runtime.page_tokens,
        grant,
        runtime.clock.now(),
        status=query.get("status"),
        page_size=query.get("page_size"),
        next_page_token=query.get("next_page_token"),
    )
    body = {
        "next_page_token": page.next_page_token,
        "page_count": page.page_count,
        "page_number": page.page_number,
        "page_size": page.page_size,
        "total_records": page.total_records,
        "users": [user_summary(user) for user in page.users],
    }
    return JSONResponse(body)


@zoom_api(Label.LIGHT)
def get_user(request: Request, runtime: Runtime, grant: Grant) -> Response:
    user = users.get_user(runtime.store, grant, user_ref_param(request))
    return JSONResponse({**user_summary(user), "account_id": user.account_id})


@zoom_api(Label.MEDIUM)
def get_user_settings(request: Request, runtime: Runtime, grant: Grant) -> Response:
    enabled = users.get_user_pac_setting(runtime.store, grant, user_ref_param(request))
    return JSONResponse({"audio_conferencing": {"personal_audio_conference": enabled}})


def user_summary(user: User) -> dict[str, Any]:
    """The fields of Zoom's user object that zoompac's data model holds."""
    created_at = user.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, Any] = {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
        "email": user.email,
        "type": user.type,
        "status": user.status.value,
        "created_at": created_at,
        "user_created_at": created_at,
    }
    if user.status is UserStatus.PENDING:
        # Zoom leaves `id` out for users who have not accepted their invitation yet.
        del body["id"]
    return body
