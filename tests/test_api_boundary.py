"""One API boundary (issue 14): every API view builds on ``config.api.PortalAPIView``, errors
are told apart by class and rendered in one exception handler, in one shape."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from catalog.api.base import ERRORS
from catalog.contract import ContractError, ContractIssue
from catalog.models import Domain
from catalog.services import (
    ConsumerTaken,
    DomainSettingsDenied,
    DomainSettingsInvalid,
    PublishConflict,
    PublishRefused,
)
from config.api import PortalAPIView, PortalError, as_portal_error
from tests.support.routes import routes

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "catalog", "quality", "querying", "config")
ISSUES = [ContractIssue("schema[0].type", "must be one of string, integer"), ContractIssue("", "x")]


def app_sources() -> list[Path]:
    return [
        p for app in APPS for p in sorted((ROOT / app).rglob("*.py")) if "migrations" not in p.parts
    ]


def test_every_api_view_of_ours_is_a_portal_api_view() -> None:
    ours = [r for r in routes() if r.is_api and r.view_class.__module__.split(".")[0] in APPS]
    assert len(ours) >= 18
    strays = [r.pattern for r in ours if not issubclass(r.view_class or object, PortalAPIView)]
    assert not strays, strays


def test_no_view_builds_an_error_response_itself() -> None:
    """Views raise; only ``config.api`` renders errors (and names ``error_response``)."""
    users = []
    for path in app_sources():
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        if "error_response" in names and path != ROOT / "config" / "api.py":
            users.append(str(path.relative_to(ROOT)))
    assert not users, users


def is_seed_not_found(node: ast.AST) -> bool:
    """Is ``node`` the literal ``{"error": "Not found"}``?"""
    return (
        isinstance(node, ast.Dict)
        and [ast.literal_eval(k) for k in node.keys if isinstance(k, ast.Constant)] == ["error"]
        and [ast.literal_eval(v) for v in node.values if isinstance(v, ast.Constant)]
        == ["Not found"]
    )


def test_the_write_ups_not_found_body_is_written_in_one_place() -> None:
    places = [
        str(path.relative_to(ROOT))
        for path in app_sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if is_seed_not_found(node)
    ]
    assert places == ["catalog/api/views.py"]


def test_errors_are_told_apart_by_class_never_by_name_or_message() -> None:
    """No ``__name__`` comparison or ``in str(exc)`` in the code that maps errors."""
    for path in [ROOT / "config" / "api.py", ROOT / "catalog" / "api" / "base.py"]:
        text = path.read_text()
        assert "__name__ ==" not in text and "in str(" not in text, path


@pytest.mark.parametrize(
    ("exc", "status", "code", "fields"),
    [
        (ContractError(ISSUES), 400, "INVALID_CONTRACT", {"schema[0].type", "contract"}),
        (PublishRefused("POLICY_VIOLATION", ISSUES), 400, "POLICY_VIOLATION", {"schema[0].type"}),
        # A subclass wins over its base: the conflict is a 409, not PublishRefused's 400.
        (PublishConflict("VERSION_CONFLICT", ISSUES), 409, "VERSION_CONFLICT", {"contract"}),
        (ConsumerTaken("taken"), 409, "CONSUMER_TAKEN", {"team"}),
        # A PermissionDenied subclass keeps its fields; a plain one is the common 403.
        (DomainSettingsDenied(["table_prefix"], "admins only"), 403, "FORBIDDEN", {"tablePrefix"}),
        (PermissionDenied("not an owner"), 403, "FORBIDDEN", set()),
        (
            DomainSettingsInvalid("slack_webhook_url", "private"),
            400,
            "INVALID",
            {"slackWebhookUrl"},
        ),
    ],
)
def test_each_service_error_answers_as_its_class_says(
    exc: Exception, status: int, code: str, fields: set[str]
) -> None:
    error = as_portal_error(exc, ERRORS)
    assert isinstance(error, PortalError)
    assert (error.http_status, error.code) == (status, code)
    assert fields <= set(error.fields) and (fields or not error.fields)
    assert error.message


def test_an_error_nobody_maps_is_left_to_the_500_path() -> None:
    assert as_portal_error(ValueError("anything"), ERRORS) is None
    assert as_portal_error(KeyError("Forbidden"), ERRORS) is None  # a name is not a class


def test_a_portal_error_renders_in_the_one_shape(api_as: Any, owner: Any) -> None:
    response = api_as(owner).get("/v1/quality/incidents?status=nope")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "INVALID",
            "message": "status: must be open or resolved",
            "fields": {"status": ["must be open or resolved"]},
        }
    }


@pytest.mark.parametrize("who", ["member", "outsider", "analyst"])
def test_an_empty_patch_by_a_non_owner_does_not_reveal_the_domains_webhook(
    who: str, request: Any, marketing: Domain, api_as: Any
) -> None:
    """It answered 200 with the Slack webhook URL (a secret) before the PATCH needed ``change``."""
    marketing.slack_webhook_url = "https://hooks.slack.com/services/T000/B000/secret"
    marketing.save()
    response = api_as(request.getfixturevalue(who)).patch(
        "/v1/catalog/domains/marketing", {}, format="json"
    )
    assert response.status_code == 403
    assert "secret" not in response.content.decode()
