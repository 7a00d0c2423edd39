"""The OpenAPI 3.1 document, built from the endpoint declarations and their pydantic models.

pydantic writes JSON Schema 2020-12, which OpenAPI 3.1 uses as it is: the models go to
`components/schemas`, the parameters' schemas are the params model's properties.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from service.api.endpoints import API_BASE, Endpoint
from service.api.problems import PROBLEM_TYPE, Problem
from service.api.tokens import SCOPE_LABELS

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")


def openapi_document(endpoints: list[Endpoint], *, version: str, server_url: str = "/") -> dict[str, Any]:
    schemas, refs = _schemas(endpoints)
    # A params model becomes the operation's parameters, not a component schema.
    param_models: dict[type[BaseModel], dict[str, Any]] = {}
    for e in endpoints:
        if e.params is not None and e.params not in param_models:
            param_models[e.params] = schemas.pop(_name(refs[(e.params, "validation")]))
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation = _operation(endpoint, param_models, refs)
        paths.setdefault(API_BASE + endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DS Desk API",
            "version": version,
            "description": "REST API DS Desk: клиенты, контакты, звонки, итоги, план, показатели; набор номера "
                           "(POST /api/v1/calls). Вход по токену: `Authorization: Bearer <токен>`. Ошибки — RFC 9457 "
                           "(application/problem+json). Подробно: docs/api.md.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Токен API; права: " + "; ".join(
                                               f"{k} — {v}" for k, v in SCOPE_LABELS.items())}},
        },
        "security": [{"bearer": []}],
    }


def _schemas(endpoints: list[Endpoint]) -> tuple[dict[str, Any], dict[tuple[type[BaseModel], str], Any]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for e in endpoints:
        if e.params is not None:
            wanted.append((e.params, "validation"))
        if e.body is not None:
            wanted.append((e.body, "validation"))
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    unique = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(unique, ref_template=REF)
    return dict(top.get("$defs", {})), refs  # type: ignore[return-value]


def _name(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[1]


def _operation(e: Endpoint, param_models: dict[Any, Any], refs: dict[Any, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": e.operation_id,
        "summary": e.summary,
        "tags": [e.tag],
        "description": (e.description + "\n\n" if e.description else "") + f"Право токена: `{e.scope}`.",
        "responses": _responses(e, refs),
    }
    if e.params is not None:
        operation["parameters"] = _parameters(e, param_models[e.params])
    if e.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(e.body, "validation")]}}}
    return operation


def _parameters(e: Endpoint, model: dict[str, Any]) -> list[dict[str, Any]]:
    in_path = set(_PATH_PARAM.findall(e.path))
    required = set(model.get("required", ()))
    parameters: list[dict[str, Any]] = []
    for field, schema in model.get("properties", {}).items():
        where: Literal["path", "query"] = "path" if field in in_path else "query"
        schema = _without_null(dict(schema))
        description = schema.pop("description", None)
        schema.pop("title", None)
        parameter: dict[str, Any] = {"name": field, "in": where, "required": where == "path" or field in required,
                                     "schema": schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter is left out, never sent as null: its schema is the non-null alternative."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept[0]}
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _responses(e: Endpoint, refs: dict[Any, Any]) -> dict[str, Any]:
    problem = {"$ref": REF.format(model="Problem")}
    responses: dict[str, Any] = {}
    if e.response is not None:
        responses[str(e.status)] = {"description": e.summary,
                                    "content": {e.response_type: {"schema": refs[(e.response, "serialization")]}}}
    else:
        responses[str(e.status)] = {"description": e.summary, "content": {e.response_type: {}}}
    responses["default"] = {"description": "Ошибка: problem details (RFC 9457)",
                            "content": {PROBLEM_TYPE: {"schema": problem}}}
    return responses
