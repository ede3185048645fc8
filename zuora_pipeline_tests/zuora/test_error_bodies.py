import json

import pytest

from zuora_pipeline.zuora import parse_error_body

CASES = [
    # Workflow API: errors[] of objects (export 400/404, run, version delete)
    (
        {"errors": [{"status": 400, "code": "invalid", "title": "Workflow version '1' is not found."}]},
        "Workflow version '1' is not found.",
    ),
    # definition delete 404: errors[] of strings
    (
        {"errors": ["Invalid ID / Multiple objects returned - SchemaId: 2 InstanceId: 2 ObjectId: 19080"]},
        "Invalid ID / Multiple objects returned",
    ),
    # the schema's capitalised key
    ({"Errors": ["Something broke"]}, "Something broke"),
    # PATCH 422: reasons[] with fieldName + title
    (
        {
            "success": False,
            "reasons": [
                {"fieldName": "status", "title": "on is not a valid status."},
                {"fieldName": "interval", "title": "bad cron"},
            ],
        },
        "status: on is not a valid status.; interval: bad cron",
    ),
    # /v1 billing: reasons[] with code + message
    (
        {
            "success": False,
            "processId": "X",
            "reasons": [{"code": 53100320, "message": "'termType' value should be one of"}],
        },
        "'termType' value should be one of (code 53100320)",
    ),
    # 429 rate limit body
    (
        {"reasons": [{"code": 70, "message": "API Rate limit exceeded for the minute, retry after 600 seconds"}]},
        "API Rate limit exceeded for the minute",
    ),
    # gateway 401
    ({"message": "Authentication error"}, "Authentication error"),
    # GitLab-reported concurrency body
    (
        {"code": "REQUEST_EXCEEDED_LIMIT", "message": "Your total number of concurrent requests have exceeded"},
        "Your total number of concurrent requests have exceeded the limit"[:50],
    ),
    # OAuth-style
    ({"error": "invalid_client", "error_description": "Bad client credentials"}, "Bad client credentials"),
    # batch_update
    (
        {"errors": [{"status": 400, "code": "Task", "title": "Data not present or not in array."}]},
        "Data not present or not in array. (code Task)",
    ),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
@pytest.mark.parametrize("form", ["dict", "str", "bytes"])
def test_shapes(body: dict, expected: str, form: str) -> None:
    value = {"dict": body, "str": json.dumps(body), "bytes": json.dumps(body).encode()}[form]
    message = parse_error_body(value)
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (None, "(empty response body)"),
        (b"", "(empty response body)"),
        ("  ", "(empty response body)"),
        (b"<html>\n<body>Bad   Gateway</body>\n</html>", "<html> <body>Bad Gateway</body> </html>"),
        ('["a", "b"]', "a; b"),
        ({"weird": 1}, '{"weird": 1}'),
        (b"\xff\xfe", "\ufffd"),
    ],
)
def test_odd_bodies(body: object, expected: str) -> None:
    assert expected in parse_error_body(body)  # type: ignore[arg-type]


def test_long_bodies_are_truncated() -> None:
    assert len(parse_error_body("x" * 5000)) <= 200
    assert len(parse_error_body({"errors": ["y" * 5000]})) <= 300
