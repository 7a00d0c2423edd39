"""Wires the API into the app: its routes, the OpenAPI document and its page, problem details for /api/."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from service.api.bulk import bulk_endpoints
from service.api.endpoints import API_BASE, Endpoint, add_endpoints
from service.api.openapi import openapi_document
from service.api.problems import problem_middleware
from service.api.resources import resource_endpoints

OPENAPI = web.AppKey("api_openapi", dict)


def api_endpoints() -> list[Endpoint]:
    return [*resource_endpoints(), *bulk_endpoints()]


@functools.cache
def build_openapi() -> dict[str, Any]:
    """Built once per process: it depends only on the code (~0.13 s of pydantic's schema generation, paid by
    every app the test suite starts). Nobody changes it after."""
    try:
        release = version("dsdesk")
    except PackageNotFoundError:  # run from a checkout without `pip install -e .`
        release = "0"
    return openapi_document(api_endpoints(), version=release)


def setup_api(app: web.Application) -> None:
    """After every other middleware is in place: the problem middleware goes first, so it sees all errors."""
    app.middlewares.insert(0, problem_middleware)
    add_endpoints(app, api_endpoints())
    app[OPENAPI] = build_openapi()
    app.router.add_get(API_BASE + "/openapi.json", openapi_json, name="api.openapi")
    app.router.add_get(API_BASE + "/docs", api_docs, name="api.docs")


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


async def api_docs(request: web.Request) -> web.Response:
    """The API described for people, from the same document (no script from elsewhere: the CSP allows none)."""
    return aiohttp_jinja2.render_template("api/docs.html", request, {"doc": request.app[OPENAPI]})
