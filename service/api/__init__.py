"""The REST API under /api/v1 (issue 19, docs/api.md): token sign-in, RFC 9457 problems, OpenAPI from the code."""
