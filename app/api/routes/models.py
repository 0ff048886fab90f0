"""The models served: list them, describe one, its labels, and its ONNX file to run on-device."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import CurrentUser, ModelsDep
from app.api.openapi import error_responses
from app.api.schemas import ModelLabels, ModelList, ModelRecord
from app.models.downloads import MEDIA_TYPE, download
from app.models.registry import ModelRegistry, ModelVersionGoneError
from contracts.model_registry import ModelEntry

router = APIRouter(prefix="/models", tags=["models"])

_UNAUTHORISED = "Missing or invalid Firebase ID token (or App Check token, when required)."
_NOT_FOUND = (
    "model_not_found",
    "no model named 'resnet-9000'; GET /models lists the models served",
)


def _record(request: Request, entry: ModelEntry) -> ModelRecord:
    download_url = request.url_for("download_model", name=entry.name)
    return ModelRecord.from_entry(
        entry,
        download_url=f"{download_url.path}?version={entry.version}",
        labels_url=request.url_for("get_model_labels", name=entry.name).path,
    )


@router.get(
    "",
    response_model=ModelList,
    responses=error_responses({401: _UNAUTHORISED}),
    operation_id="listModels",
    summary="List the models an upload may name",
)
async def list_models(request: Request, user: CurrentUser, models: ModelsDep) -> ModelList:
    served = models.served
    return ModelList(
        default=served.default,
        models=[_record(request, entry) for entry in served.models.values()],
    )


@router.get(
    "/{name}",
    response_model=ModelRecord,
    responses=error_responses({401: _UNAUTHORISED, 404: "No such model."}, {404: _NOT_FOUND}),
    operation_id="getModel",
    summary="Describe one model",
)
async def get_model(
    request: Request, name: str, user: CurrentUser, models: ModelsDep
) -> ModelRecord:
    return _record(request, models.get(name))


@router.get(
    "/{name}/labels",
    response_model=ModelLabels,
    responses=error_responses({401: _UNAUTHORISED, 404: "No such model."}, {404: _NOT_FOUND}),
    operation_id="getModelLabels",
    summary="The model's class names, by class id",
)
async def get_model_labels(
    name: str, response: Response, user: CurrentUser, models: ModelsDep
) -> ModelLabels:
    entry = models.get(name)
    label_set = ModelRegistry.labels(entry)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return ModelLabels(model=entry.name, label_set=label_set.name, labels=list(label_set.labels))


@router.head("/{name}/download", include_in_schema=False)
@router.get(
    "/{name}/download",
    response_class=Response,
    responses={
        200: {
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The ONNX file, with `ETag` (its SHA-256) and `Accept-Ranges`. "
            "`HEAD` gives the same headers without the body.",
        },
        206: {"description": "The requested `Range` of the file."},
        304: {"description": "`If-None-Match` holds the current ETag: the copy is current."},
        **error_responses(
            {
                400: "A malformed `Range` header.",
                401: _UNAUTHORISED,
                404: "No such model, or `version` is no longer the current one.",
                416: "A `Range` outside the file.",
                422: "A `version` longer than 64 characters.",
                503: "The file is damaged on this gateway (`model_unavailable`); retry later.",
            },
            {
                400: ("invalid_range", "cannot serve Range 'bytes=x-': Malformed range header."),
                404: _NOT_FOUND,
                416: ("range_not_satisfiable", "the file has 18544544 bytes; Range ..."),
                422: ("validation_error", "version: String should have at most 64 characters"),
                503: ("model_unavailable", "the file of efficientnet-lite0 ... is damaged"),
            },
        ),
    },
    operation_id="downloadModel",
    summary="Download the model's ONNX file (resumable, cacheable)",
)
async def download_model(
    request: Request,
    name: str,
    user: CurrentUser,
    models: ModelsDep,
    version: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The version to fetch (as in `download_url`); a version that is no "
            "longer current is a 404 `model_version_not_found`. Omitted: the current one.",
        ),
    ] = None,
) -> Response:
    entry = models.get(name)
    if version is not None and version != entry.version:
        raise ModelVersionGoneError(entry, version)
    path = await models.verified_file(entry)
    return download(entry, path, request.headers, versioned=version is not None)
