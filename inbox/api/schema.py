"""Make the OpenAPI schema say what the API does (drf-spectacular post-processing hook).

drf-spectacular documents each view's success response; this adds, to every operation,
the error statuses the API can answer with (each from one place: authentication,
throttling, parsing, the body-size limit, the database-unavailable middleware) and the
input rules that serializers check in code (no NUL characters, a Message-ID that is not
blank, at least one of subject/text/HTML), so a client or a fuzzer generating from the
schema sends only what the API accepts.
"""

from __future__ import annotations

from django.conf import settings

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERRORS = {
    "type": "object",
    "description": "Field name (or `non_field_errors`, `detail`) → messages.",
    "additionalProperties": True,
}
NO_NUL = "^[^\\u0000]*$"
# A Message-ID: something besides spaces and angle brackets, and no NUL.
MESSAGE_ID = "^[^\\u0000]*[^\\s<>\\u0000][^\\u0000]*$"
INGEST = {"create", "batch", "raw"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _error_responses(path: str, method: str, operation: dict) -> dict[str, dict]:
    has_body = "requestBody" in operation
    has_params = any(p.get("in") == "query" for p in operation.get("parameters", []))
    responses = {
        "401": _response("No or invalid credentials.", "Error"),
        "403": _response("Not allowed (a session without its CSRF token).", "Error"),
        "503": _response(
            "The database is unavailable; retry after `Retry-After` seconds.", "Error"
        ),
    }
    if has_body or has_params:
        responses["400"] = _response("The input is invalid; the body says why.", "ValidationErrors")
    if "{" in path or any(p.get("name") == "page" for p in operation.get("parameters", [])):
        responses["404"] = _response("No such object (or page).", "Error")
    if has_body:
        responses["413"] = _response("The request body is over the size limit.", "Error")
        responses["415"] = _response("Unsupported Content-Type.", "Error")
    if method == "post" and operation.get("operationId", "").split("_")[-1] in INGEST:
        responses["429"] = _response(
            "Over the ingest rate (CLEANINBOX_INGEST_RATE); retry after `Retry-After` seconds.",
            "Error",
        )
    return responses


def _email_in_rules(schema: dict) -> None:
    props = schema.get("properties", {})
    for prop in props.values():
        if prop.get("type") == "string" and "format" not in prop:
            prop.setdefault("pattern", NO_NUL)
    # Header values are checked like the other text fields (no NUL).
    header_values = props.get("headers", {}).get("additionalProperties")
    if isinstance(header_values, dict) and header_values.get("type") == "string":
        header_values.setdefault("pattern", NO_NUL)
    if "message_id" in props:
        props["message_id"]["pattern"] = MESSAGE_ID
        props["message_id"]["description"] = "Angle brackets and surrounding spaces are dropped."
    for name in ("body_text", "body_html"):
        if name in props:
            props[name]["description"] = (
                f"At most CLEANINBOX_MAX_BODY_BYTES ({settings.CLEANINBOX_MAX_BODY_BYTES}) "
                "bytes as UTF-8."
            )
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"pattern": "\\S"}}}
        for name in ("subject", "body_text", "body_html")
    ]
    schema["description"] = "An email needs a non-blank subject, text body or HTML body."


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: error statuses, input rules, bounds."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR
    components["ValidationErrors"] = VALIDATION_ERRORS
    if "EmailInRequest" in components:
        _email_in_rules(components["EmailInRequest"])
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in _error_responses(path, method, operation).items():
                operation["responses"].setdefault(status, response)
            for param in operation.get("parameters", []):
                _bound_parameter(param)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and body.get("schema", {}).get("type") == "array":
                body["schema"]["maxItems"] = settings.CLEANINBOX_MAX_BATCH
    return result


def _bound_parameter(param: dict) -> None:
    schema = param.setdefault("schema", {})
    if param.get("in") == "query" and schema.get("format") == "date-time":
        # An empty value means "no bound", as for every filter.
        param["schema"] = {"anyOf": [dict(schema), {"type": "string", "maxLength": 0}]}
        return
    if param.get("in") != "query" or schema.get("type") != "string":
        return
    schema.setdefault("pattern", NO_NUL)
    if param["name"] == "search":
        words = settings.CLEANINBOX_SEARCH_MAX_WORDS
        schema["maxLength"] = settings.CLEANINBOX_SEARCH_MAX_LENGTH
        # At most `words` words (runs of non-space), and no NUL.
        schema["pattern"] = f"^\\s*([^\\s\\u0000]+\\s+){{0,{words - 1}}}[^\\s\\u0000]*\\s*$"
        param["description"] = (
            f"Words that must all appear in the subject, body or sender; at most {words} words "
            f"and {settings.CLEANINBOX_SEARCH_MAX_LENGTH} characters."
        )
