"""OpenAPI post-processing: the error answers every operation can give, documented once,
so clients (and schemathesis) find in the schema every status the API really sends."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "description": "What went wrong, in words.",
}
#: a 400 names its fields: ``{"field": ["message", …]}``, or ``{"detail": "…"}``
VALIDATION_ERROR = {
    "type": "object",
    "additionalProperties": True,
    "description": "The refused fields with their messages, or a detail.",
}
#: status → (description, schema); which apply depends on the operation (below)
ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "400": (
        "The input was refused; the body names the field, line or JSON path.",
        VALIDATION_ERROR,
    ),
    "401": ("Not signed in: send a token or a session cookie.", ERROR),
    "403": ("Signed in, but not allowed to do this.", ERROR),
    "404": ("No such object, or not visible to you.", ERROR),
    "405": ("The method is not allowed here.", ERROR),
    "406": ("The Accept header asks for a format the API does not give.", ERROR),
    "409": ("The map changed since you read it (stale version).", ERROR),
    "413": ("The request body is too large.", ERROR),
    "415": ("The body's content type is not accepted.", ERROR),
    "429": ("Too many requests: slow down (Retry-After says when).", ERROR),
}
WRITE_ONLY = {"409", "413", "415"}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add the error answers each operation can give
    (never overriding what a view documents itself)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    refs = {
        id(ERROR): {"$ref": "#/components/schemas/Error"},
        id(VALIDATION_ERROR): {"$ref": "#/components/schemas/ValidationError"},
    }
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete", "head", "options"}:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") not in ("page",):
                    # an empty filter (``?map=``, as HTML filter forms send) means no filter
                    parameter.setdefault("allowEmptyValue", True)
            responses = operation.setdefault("responses", {})
            for status, (description, schema) in ERRORS.items():
                if status in WRITE_ONLY and method not in WRITE_METHODS:
                    continue
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": refs[id(schema)]}},
                    },
                )
    return result
