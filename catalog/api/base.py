"""What the catalog's API views share: the product the URL names and the catalog's refusals.

``ERRORS`` says, once, how each catalog service exception answers (``config.api`` renders
them); views built on ``CatalogApi`` or ``ProductApi`` raise, or let the services raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from catalog.contract import ContractError, ContractIssue
from catalog.models import DataProduct
from catalog.selectors import SearchInvalid
from catalog.services import (
    ConsumerTaken,
    DomainSettingsDenied,
    DomainSettingsInvalid,
    PublishConflict,
    PublishRefused,
)
from config.api import Conflict, ErrorMap, Forbidden, Invalid, PortalAPIView, PortalError

# A domain's settings as the API names them (the services use the model's field names).
SETTING_NAMES = MappingProxyType(
    {
        "slack_webhook_url": "slackWebhookUrl",
        "table_prefix": "tablePrefix",
        "members_see_raw": "membersSeeRaw",
        "access_max_days": "accessMaxDays",
    }
)


def _issues(
    issues: Sequence[ContractIssue],
    code: str,
    error: type[PortalError] = Invalid,
    impact: dict[str, Any] | None = None,
) -> PortalError:
    """A refused contract naming every field: ``fields`` maps each path to its messages; a
    refused breaking change says what it would reach downstream (``impact``, issue 16)."""
    fields: dict[str, list[str]] = {}
    for issue in issues:
        fields.setdefault(issue.path or "contract", []).append(issue.message)
    message = str(issues[0]) if issues else "invalid contract"
    return error(message, code=code, fields=fields, extra={"impact": impact} if impact else None)


def _contract_invalid(exc: ContractError) -> PortalError:
    return _issues(exc.issues, "INVALID_CONTRACT")


def _publish_refused(exc: PublishRefused) -> PortalError:
    return _issues(exc.issues, exc.code, impact=exc.impact)


def _publish_conflict(exc: PublishConflict) -> PortalError:
    return _issues(exc.issues, exc.code, Conflict, impact=exc.impact)


def _consumer_taken(exc: ConsumerTaken) -> PortalError:
    return Conflict(str(exc), code="CONSUMER_TAKEN", fields={"team": [str(exc)]})


def _settings_denied(exc: DomainSettingsDenied) -> PortalError:
    return Forbidden(str(exc), fields={SETTING_NAMES[f]: [str(exc)] for f in exc.fields})


def _settings_invalid(exc: DomainSettingsInvalid) -> PortalError:
    name = SETTING_NAMES[exc.field]
    return Invalid(f"{name}: {exc}", fields={name: [str(exc)]})


def _search_invalid(exc: SearchInvalid) -> PortalError:
    return Invalid(str(exc), fields=exc.errors)


ERRORS: ErrorMap = MappingProxyType(
    {
        ContractError: _contract_invalid,  # 400 INVALID_CONTRACT
        PublishRefused: _publish_refused,  # 400, the gate's code (POLICY_VIOLATION, ...)
        PublishConflict: _publish_conflict,  # 409 VERSION_CONFLICT, CONCURRENT_PUBLISH
        ConsumerTaken: _consumer_taken,  # 409 CONSUMER_TAKEN
        DomainSettingsDenied: _settings_denied,  # 403 naming the setting
        DomainSettingsInvalid: _settings_invalid,  # 400 naming the setting
        SearchInvalid: _search_invalid,  # 400 naming the parameter
    }
)


class CatalogApi(PortalAPIView):
    """An API view that calls catalog services: their refusals answer as ``ERRORS`` says."""

    errors = ERRORS


class ProductApi(CatalogApi):
    """An API view of one data product, named by the URL's ``product_id``."""

    queryset = DataProduct.objects.select_related("domain")
    lookup_field = "product_id"
    noun = "data product"
