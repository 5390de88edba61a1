"""Governance API and pages: deprecate/retire, policies, compliance scorecards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.models import Column, DataProduct, Domain, GovernancePolicy
from catalog.services import product_publish
from tests.catalog.test_publish_gates import SEED_TABLE, build_warehouse
from tests.factories import contract_document

pytestmark = pytest.mark.django_db

DEPRECATE = "/v1/governance/products/marketing.campaign_attribution/deprecate"
RETIRE = "/v1/governance/products/marketing.campaign_attribution/retire"
NOTICE = {"sunsetAt": "2030-01-01T00:00:00Z", "reason": "Replaced by v2"}


@pytest.fixture(autouse=True)
def warehouse(tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "wh.duckdb",
        {
            "marketing_campaign_attribution": SEED_TABLE,
            "marketing_sessions": SEED_TABLE,
            "finance_ledger": SEED_TABLE,
        },
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True


@pytest.fixture
def product(marketing: Domain) -> DataProduct:
    return product_publish(actor=None, document=contract_document(), source="test").product


# --- deprecate and retire -------------------------------------------------------------------


def test_anonymous_cannot_deprecate(api_as: Any, product: DataProduct) -> None:
    response = api_as(None).post(DEPRECATE, NOTICE, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_outsider_cannot_deprecate_another_domains_product(
    api_as: Any, outsider: Any, product: DataProduct
) -> None:
    response = api_as(outsider).post(DEPRECATE, NOTICE, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    product.refresh_from_db()
    assert product.status == "published"


def test_member_who_is_not_an_owner_cannot_deprecate(
    api_as: Any, member: Any, product: DataProduct
) -> None:
    assert api_as(member).post(DEPRECATE, NOTICE, format="json").status_code == 403


def test_owner_deprecates_and_gets_the_lifecycle_warning(
    api_as: Any, owner: Any, product: DataProduct
) -> None:
    response = api_as(owner).post(DEPRECATE, NOTICE, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["product"]["status"] == "deprecated"
    assert body["product"]["deprecation"] == {
        "sunsetAt": "2030-01-01T00:00:00Z",
        "reason": "Replaced by v2",
    }
    assert body["queryable"] is True
    assert "stays queryable until 2030-01-01" in body["lifecycleWarnings"][0]
    assert {c["kind"] for c in body["changes"]} == {"status_changed", "deprecation_changed"}


def test_deprecate_names_each_missing_field(api_as: Any, owner: Any, product: DataProduct) -> None:
    response = api_as(owner).post(DEPRECATE, {"sunsetAt": "soon"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"sunsetAt", "reason"}


def test_deprecate_refuses_an_unknown_replacement_with_the_contract_path(
    api_as: Any, owner: Any, product: DataProduct
) -> None:
    response = api_as(owner).post(
        DEPRECATE, {**NOTICE, "replacedBy": "marketing.nowhere"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "LIFECYCLE"
    assert "deprecation.replacedBy" in error["fields"]


def test_deprecating_an_unknown_product_is_404(api_as: Any, owner: Any) -> None:
    response = api_as(owner).post(
        "/v1/governance/products/marketing.nothing/deprecate", NOTICE, format="json"
    )
    assert response.status_code == 404


def test_retire_requires_deprecation_first_then_succeeds(
    api_as: Any, owner: Any, product: DataProduct
) -> None:
    refused = api_as(owner).post(RETIRE, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "LIFECYCLE"
    assert api_as(owner).post(DEPRECATE, NOTICE, format="json").status_code == 200
    retired = api_as(owner).post(RETIRE, format="json")
    assert retired.status_code == 200
    assert retired.json()["product"]["status"] == "retired"
    assert retired.json()["queryable"] is False


# --- policies -------------------------------------------------------------------------------


def test_policies_are_listed_with_titles_and_severities(api_as: Any, analyst: Any) -> None:
    response = api_as(analyst).get("/v1/governance/policies")
    assert response.status_code == 200
    policies = {p["key"]: p for p in response.json()["policies"]}
    assert policies["pii.column_names"]["severity"] == "error"
    assert policies["checks.freshness"]["title"] == "Published products check their freshness"
    assert GovernancePolicy.objects.count() == len(policies)


def test_only_admins_change_a_global_policy(api_as: Any, owner: Any, admin_user: Any) -> None:
    url = "/v1/governance/policies/metadata.tags"
    assert api_as(None).put(url, {"severity": "error"}, format="json").status_code == 401
    assert api_as(owner).put(url, {"severity": "error"}, format="json").status_code == 403
    response = api_as(admin_user).put(url, {"severity": "error"}, format="json")
    assert response.status_code == 200
    assert response.json()["severity"] == "error"
    assert response.json()["updatedBy"] == "root"
    assert GovernancePolicy.objects.get(key="metadata.tags").severity == "error"


def test_changing_an_unknown_policy_or_severity_is_a_400(api_as: Any, admin_user: Any) -> None:
    bad_key = api_as(admin_user).put(
        "/v1/governance/policies/nope", {"severity": "error"}, format="json"
    )
    assert bad_key.status_code == 400
    assert "unknown policy" in bad_key.json()["error"]["fields"]["key"][0]
    bad_severity = api_as(admin_user).put(
        "/v1/governance/policies/metadata.tags", {"severity": "fatal"}, format="json"
    )
    assert bad_severity.status_code == 400
    assert "severity" in bad_severity.json()["error"]["fields"]


# --- scorecards -----------------------------------------------------------------------------


@pytest.fixture
def catalog(marketing: Domain, finance: Domain) -> None:
    """Marketing: one clean product, one with an unflagged personal column; finance: one."""
    clean = contract_document("marketing.sessions", table="marketing_sessions")
    clean["schema"][1]["mask"] = "hash"  # user_id: identifier-like PII is hashed
    clean["qualityChecks"] = [
        *clean["qualityChecks"],
        *(
            {
                "name": f"{c['column']}_present",
                "type": "not_null",
                "column": c["column"],
                "severity": "error",
            }
            for c in clean["schema"]
            if not c.get("nullable", True) and c["column"] != "campaign_id"
        ),
    ]
    product_publish(actor=None, document=clean, source="test")
    product_publish(actor=None, document=contract_document(), source="test")
    # A column that looks personal but is not flagged (as if published before the rule).
    attribution = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    Column.objects.create(product=attribution, position=9, name="customer_email", type="string")
    product_publish(
        actor=None,
        document=contract_document("finance.ledger", table="finance_ledger"),
        source="test",
    )


def test_domain_scorecard_counts_compliance_and_pii_coverage(
    api_as: Any, analyst: Any, catalog: None
) -> None:
    response = api_as(analyst).get("/v1/governance/domains/marketing/scorecard")
    assert response.status_code == 200
    card = response.json()
    assert card["products"] == 2
    assert card["policyCompliance"] == {"passing": 1, "total": 2, "share": 0.5}
    # user_id in both (flagged), customer_email (not flagged): 2 of 3.
    assert card["piiCoverage"] == {"flagged": 2, "personalLooking": 3, "share": 0.6667}
    assert card["openIncidents"] == 0
    details = {p["id"]: p for p in card["productDetails"]}
    assert details["marketing.sessions"]["compliant"] is True
    assert details["marketing.campaign_attribution"]["unflaggedPersonalColumns"] == [
        "customer_email"
    ]
    assert details["marketing.campaign_attribution"]["errors"] == 1


def test_scorecard_list_covers_every_domain_and_the_policies(
    api_as: Any, analyst: Any, catalog: None
) -> None:
    response = api_as(analyst).get("/v1/governance/scorecard")
    assert response.status_code == 200
    body = response.json()
    assert [d["domain"] for d in body["domains"]] == ["finance", "marketing"]
    assert body["domains"][0]["policyCompliance"]["total"] == 1
    assert "productDetails" not in body["domains"][0]
    assert any(p["key"] == "pii.sampled_values" for p in body["policies"])


def test_scorecards_need_a_login(api_as: Any) -> None:
    assert api_as(None).get("/v1/governance/scorecard").status_code == 401
    assert api_as(None).get("/v1/governance/domains/marketing/scorecard").status_code == 401


def test_unknown_domain_scorecard_is_404(api_as: Any, analyst: Any) -> None:
    assert api_as(analyst).get("/v1/governance/domains/nope/scorecard").status_code == 404


def test_drafts_are_not_counted_for_readers_outside_the_team(
    api_as: Any, analyst: Any, marketing: Domain
) -> None:
    product_publish(
        actor=None,
        document=contract_document(
            "marketing.sessions", table="marketing_sessions", status="draft"
        ),
        source="test",
    )
    card = api_as(analyst).get("/v1/governance/domains/marketing/scorecard").json()
    assert card["products"] == 0


# --- pages ----------------------------------------------------------------------------------


def test_governance_page_shows_scorecards_and_policies(
    client: Any, analyst: Any, catalog: None
) -> None:
    client.force_login(analyst)
    response = client.get("/governance/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Personal data is flagged by name" in page
    assert 'href="/governance/domains/marketing/"' in page
    assert "50%" in page
    assert "Edit policies in the admin" not in page


def test_admins_get_a_link_to_edit_policies(client: Any, admin_user: Any) -> None:
    client.force_login(admin_user)
    page = client.get("/governance/").content.decode()
    assert 'href="/admin/catalog/governancepolicy/"' in page
    admin_list = client.get("/admin/catalog/governancepolicy/")
    assert admin_list.status_code == 200
    assert "pii.sampled_values" in admin_list.content.decode()


def test_domain_page_lists_each_violation(client: Any, analyst: Any, catalog: None) -> None:
    client.force_login(analyst)
    response = client.get("/governance/domains/marketing/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "column customer_email looks like personal data" in page
    assert "<code>customer_email</code>" in page


def test_governance_pages_need_a_login(client: Any) -> None:
    response = client.get("/governance/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
