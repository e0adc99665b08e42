"""Graph profile photo routes: metadata (GET /photo) and bytes (GET /photo/$value)."""

from __future__ import annotations

import zlib

from entrasync_emulators.graph.messages import GraphError, GraphRequest, GraphResponse
from entrasync_emulators.graph.outlook import mailbox_owner
from entrasync_emulators.graph.router import router


def _photo(request: GraphRequest) -> tuple[str, bytes]:
    user_id, _ = mailbox_owner(request)
    photo = request.tenant.mailbox(user_id).photo
    if photo is None:
        raise GraphError(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' "
            "was thrown.",
        )
    return user_id, photo


def _etag(photo: bytes) -> str:
    return f'"{zlib.crc32(photo):08X}"'


@router.route("GET", "/users/{user}/photo")
def photo_metadata(request: GraphRequest) -> GraphResponse:
    user_id, photo = _photo(request)
    tenant_id = request.tenant.tenant_id
    return GraphResponse(
        200,
        {
            "@odata.context": f"{request.base_url}/$metadata#users('{user_id}')/photo/$entity",
            "@odata.id": f"{request.base_url}/users('{user_id}@{tenant_id}')/photo",
            "@odata.mediaContentType": "image/jpeg",
            "@odata.mediaEtag": _etag(photo),
            "id": "240X240",
            "width": 240,
            "height": 240,
        },
    )


@router.route("GET", "/users/{user}/photo/$value")
def photo_value(request: GraphRequest) -> GraphResponse:
    _, photo = _photo(request)
    return GraphResponse(200, photo, headers={"ETag": _etag(photo)}, media_type="image/jpeg")
