"""Publishing goes through the governance gates: policies, breaking changes, the warehouse.

Each test builds a real DuckDB warehouse file in tmp_path and points WAREHOUSE_URL at it.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Column, ContractVersion, DataProduct, Domain, GovernancePolicy
from catalog.services import PublishConflict, PublishRefused, consumer_register, product_publish
from tests.factories import contract_document, seed_document

pytestmark = pytest.mark.django_db

SEED_TABLE = {
    "attribution_id": "VARCHAR",
    "user_id": "VARCHAR",
    "campaign_id": "VARCHAR",
    "channel": "VARCHAR",
    "touchpoint_at": "TIMESTAMP",
    "conversion_at": "TIMESTAMP",
    "revenue_cents": "BIGINT",
    "attribution_model": "VARCHAR",
}


def build_warehouse(
    path: Path,
    tables: dict[str, dict[str, str]],
    rows: dict[str, list[tuple[Any, ...]]] | None = None,
) -> str:
    """Write a DuckDB file with ``tables`` (name → column → type) and return its URL."""
    conn = duckdb.connect(str(path))
    for table, columns in tables.items():
        cols = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        conn.execute(f'CREATE TABLE "{table}" ({cols})')
        for row in (rows or {}).get(table, []):
            conn.execute(f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in row)})', list(row))
    conn.close()
    return f"duckdb:///{path}"


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> str:
    """A warehouse holding the seed's table (and its draft sibling), enforced at publish."""
    url = build_warehouse(
        tmp_path / "wh.duckdb",
        {
            "marketing_campaign_attribution": SEED_TABLE,
            "marketing_campaigns": SEED_TABLE,
            "finance_campaigns": SEED_TABLE,
        },
        {
            "marketing_campaign_attribution": [
                ("a1", "u1", "c1", "paid", "2025-03-01 00:00:00", None, 100, "linear")
            ]
        },
    )
    settings.WAREHOUSE_URL = url
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    return url


def published(doc: dict[str, Any]) -> DataProduct:
    return product_publish(actor=None, document=doc, source="test").product


# --- the seed and the policies -------------------------------------------------------------


def test_seed_contract_publishes_unchanged_with_warnings_only(
    warehouse: str, tmp_path: Path
) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(seed_document()))
    out, err = StringIO(), StringIO()
    call_command("publish", str(path), stdout=out, stderr=err)
    assert err.getvalue() == ""
    lines = out.getvalue().splitlines()
    assert lines[-1] == "marketing.campaign_attribution v3 (published): created"
    warnings = [line for line in lines if ": warning: " in line]
    assert warnings, "what the seed lacks is reported"
    assert any("attribution_id" in w and "not_null" in w for w in warnings)
    product = DataProduct.objects.get(product_id="marketing.campaign_attribution")
    assert product.table == "marketing_campaign_attribution"
    assert product.columns.count() == 8


def test_factory_contract_passes_every_gate(warehouse: str) -> None:
    outcome = product_publish(actor=None, document=contract_document(), source="test")
    assert outcome.created
    assert all("policy" in w or "table" in w for w in outcome.warnings)


def test_personal_column_name_without_pii_flag_is_refused_by_the_api(
    warehouse: str, api_as: Any, owner: Any
) -> None:
    doc = contract_document()
    doc["schema"].append(
        {"column": "customer_email", "type": "string", "description": "Buyer address"}
    )
    response = api_as(owner).put(
        "/v1/catalog/products/marketing.campaign_attribution", doc, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "POLICY"
    assert "schema[8].pii" in error["fields"]
    assert "personal data" in error["fields"]["schema[8].pii"][0]
    assert "pii.column_names" in error["fields"]["schema[8].pii"][0]
    assert not DataProduct.objects.exists()


def test_policy_violations_print_file_path_message_lines_in_the_publish_command(
    warehouse: str, tmp_path: Path
) -> None:
    doc = contract_document()
    doc["schema"][5]["column"] = "ConversionAt"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("publish", str(path), stdout=StringIO(), stderr=err)
    assert f"{path}: schema[5].column: column ConversionAt is not snake_case" in err.getvalue()
    assert not DataProduct.objects.exists()


def test_personal_looking_sampled_values_must_be_flagged_pii(tmp_path: Path, settings: Any) -> None:
    table = {**SEED_TABLE, "contact_info": "VARCHAR"}
    rows = [
        ("a1", "u1", "c1", "paid", "2025-03-01", None, 1, "linear", f"person{i}@example.org")
        for i in range(5)
    ]
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb",
        {"marketing_campaign_attribution": table},
        {"marketing_campaign_attribution": rows},
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    doc = contract_document()
    doc["schema"].append(
        {"column": "contact_info", "type": "string", "description": "How to reach"}
    )
    with pytest.raises(PublishRefused) as refused:
        published(doc)
    assert refused.value.code == "POLICY"
    [issue] = refused.value.issues
    assert issue.path == "schema[8].pii"
    assert "5 of 5 sampled values" in issue.message
    doc["schema"][8]["pii"] = True
    assert published(doc).columns.get(name="contact_info").pii


def test_admin_can_turn_a_warning_policy_into_an_error(warehouse: str) -> None:
    from catalog.governance.selectors import global_rules

    global_rules()
    GovernancePolicy.objects.filter(key="checks.not_null").update(severity="error")
    with pytest.raises(PublishRefused) as refused:
        published(contract_document())
    assert refused.value.code == "POLICY"
    assert {i.path for i in refused.value.issues} >= {"schema[0]", "schema[1]"}


def test_domain_override_makes_a_rule_stricter_for_its_products_only(
    warehouse: str, marketing: Domain, finance: Domain
) -> None:
    marketing.policy_overrides = [{"key": "metadata.tags", "severity": "error"}]
    marketing.save()
    with pytest.raises(PublishRefused) as refused:
        published(contract_document(tags=[]))
    assert refused.value.issues[0].path == "tags"
    finance_doc = contract_document("finance.campaigns", tags=[])
    assert published(finance_doc).product_id == "finance.campaigns"


def test_domain_override_cannot_loosen_a_global_rule(warehouse: str, marketing: Domain) -> None:
    marketing.policy_overrides = [{"key": "naming.column_snake_case", "severity": "off"}]
    marketing.save()
    doc = contract_document()
    doc["schema"][5]["column"] = "ConversionAt"
    with pytest.raises(PublishRefused) as refused:
        published(doc)
    assert refused.value.code == "POLICY"


def test_domain_rejects_overrides_naming_unknown_policies(marketing: Domain) -> None:
    from django.core.exceptions import ValidationError

    marketing.policy_overrides = [{"key": "naming.nope", "severity": "error"}]
    with pytest.raises(ValidationError) as invalid:
        marketing.full_clean()
    assert "unknown policy" in str(invalid.value.message_dict["policy_overrides"])


# --- breaking changes -----------------------------------------------------------------------


def test_a_breaking_change_without_a_version_increase_is_refused_and_nothing_changes(
    warehouse: str,
) -> None:
    published(contract_document())
    doc = contract_document()
    del doc["schema"][6]  # revenue_cents
    doc["schema"][0]["type"] = "integer"
    with pytest.raises(PublishRefused) as refused:
        published(doc)
    # 400 BREAKING_CHANGE (issue 6), not the 409 of a taken version: each change is named.
    assert not isinstance(refused.value, PublishConflict)
    assert refused.value.code == "BREAKING_CHANGE"
    messages = [str(i) for i in refused.value.issues]
    assert any("revenue_cents removed" in m and "needs version > 3" in m for m in messages)
    assert any(m.startswith("schema[0].type") and "string → integer" in m for m in messages)
    assert Column.objects.filter(name="revenue_cents").exists()
    assert ContractVersion.objects.count() == 1


def test_another_non_breaking_document_at_the_published_version_is_a_version_conflict(
    warehouse: str,
) -> None:
    published(contract_document())
    with pytest.raises(PublishConflict) as refused:
        published(contract_document(description="Another description, same version."))
    assert refused.value.code == "VERSION_CONFLICT"
    [issue] = refused.value.issues
    assert issue.path == "version"
    assert "version 3 of marketing.campaign_attribution is already published" in issue.message
    assert "as version 4" in issue.message
    assert ContractVersion.objects.count() == 1


def test_breaking_change_gate_lists_what_breaks_when_the_version_is_not_higher() -> None:
    from django.utils import timezone

    from catalog.contract import parse_contract
    from catalog.contract_diff import diff_contracts
    from catalog.governance.gates import Candidate, breaking_change_gate

    old = parse_contract(contract_document())
    doc = contract_document()
    del doc["schema"][6]  # revenue_cents
    doc["schema"][0]["type"] = "integer"
    new = parse_contract(doc)
    changes = tuple(diff_contracts(old, new))
    result = breaking_change_gate(Candidate(new, old, None, changes, timezone.now()))
    assert result.code == "BREAKING_CHANGE"
    messages = [str(i) for i in result.errors]
    assert any("revenue_cents removed" in m for m in messages)
    assert any(m.startswith("schema[0].type") and "string → integer" in m for m in messages)


def test_breaking_change_with_a_higher_version_is_recorded_and_consumers_are_emailed(
    warehouse: str, django_capture_on_commit_callbacks: Any
) -> None:
    product = published(contract_document())
    for team, use, mail_to in (
        ("Growth", "dashboards", "g@x.io"),
        ("Finance", "revenue", "f@x.io"),
    ):
        consumer_register(actor=None, product=product, team=team, use_case=use, contact=mail_to)
    mail.outbox.clear()
    doc = contract_document(version=4)
    del doc["schema"][6]
    with django_capture_on_commit_callbacks(execute=True):
        outcome = product_publish(actor=None, document=doc, source="test")
    version = outcome.version
    assert version is not None and version.is_breaking and version.version == 4
    assert {
        "path": "schema[6]",
        "kind": "column_removed",
        "message": "column revenue_cents removed",
        "breaking": True,
    } in version.changes
    assert set(version.changes[0]) == {"path", "kind", "message", "breaking"}
    notices = [m for m in mail.outbox if "breaking change" in m.subject]
    assert sorted(m.to[0] for m in notices) == ["f@x.io", "g@x.io"]
    assert "(v3 → v4)" in notices[0].subject
    assert "Columns affected: revenue_cents" in notices[0].body
    assert "schema[6]: column revenue_cents removed" in notices[0].body


def test_non_breaking_change_is_recorded_as_not_breaking(warehouse: str) -> None:
    published(contract_document())
    doc = contract_document(description="Now with more words.", version=4)
    outcome = product_publish(actor=None, document=doc, source="test")
    assert outcome.version is not None and outcome.version.version == 4
    assert outcome.version.changes == [
        {
            "path": "description",
            "kind": "metadata_changed",
            "message": "description changed",
            "breaking": False,
        }
    ]
    assert not outcome.version.is_breaking
    assert mail.outbox == []


def test_version_may_not_go_down(warehouse: str) -> None:
    published(contract_document())
    with pytest.raises(PublishConflict) as refused:
        published(contract_document(version=2))
    assert refused.value.code == "VERSION_CONFLICT"
    assert refused.value.issues[0].path == "version"
    assert "must not go down" in refused.value.issues[0].message


# --- the warehouse --------------------------------------------------------------------------


def test_publish_is_refused_when_the_table_is_missing(warehouse: str) -> None:
    doc = contract_document(table="marketing_nowhere")
    with pytest.raises(PublishRefused) as refused:
        published(doc)
    assert refused.value.code == "CONFORMANCE"
    assert str(refused.value.issues[0]) == (
        "table: table marketing_nowhere does not exist in the warehouse"
    )
    assert not DataProduct.objects.exists()


def test_publish_is_refused_when_a_column_type_differs(tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb",
        {"marketing_campaign_attribution": {**SEED_TABLE, "revenue_cents": "VARCHAR"}},
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    with pytest.raises(PublishRefused) as refused:
        published(contract_document())
    [issue] = refused.value.issues
    assert issue.path == "schema[6].type"
    assert "revenue_cents is VARCHAR in the warehouse, which is not a integer type" in issue.message


def test_publish_is_refused_when_a_declared_column_is_missing(
    tmp_path: Path, settings: Any
) -> None:
    table = {k: v for k, v in SEED_TABLE.items() if k != "channel"}
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", {"marketing_campaign_attribution": table}
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    with pytest.raises(PublishRefused) as refused:
        published(contract_document())
    assert [i.path for i in refused.value.issues] == ["schema[3].column"]


def test_a_draft_may_be_published_before_its_table_exists(warehouse: str) -> None:
    outcome = product_publish(
        actor=None,
        document=contract_document(status="draft", table="marketing_later"),
        source="test",
    )
    assert outcome.product.status == "draft"
    assert any("marketing_later does not exist" in w for w in outcome.warnings)


def test_warehouse_conformance_is_skipped_only_by_the_explicit_setting(
    settings: Any, tmp_path: Path
) -> None:
    settings.WAREHOUSE_URL = f"duckdb:///{tmp_path}/absent.duckdb"
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    with pytest.raises(PublishRefused):
        published(contract_document())
    settings.PUBLISH_REQUIRE_WAREHOUSE = False
    outcome = product_publish(actor=None, document=contract_document(), source="test")
    assert outcome.created
    assert any("cannot be reached" in w for w in outcome.warnings)


def test_undeclared_warehouse_columns_are_a_warning(tmp_path: Path, settings: Any) -> None:
    settings.WAREHOUSE_URL = build_warehouse(
        tmp_path / "w.duckdb", {"marketing_campaign_attribution": {**SEED_TABLE, "extra": "INT"}}
    )
    settings.PUBLISH_REQUIRE_WAREHOUSE = True
    outcome = product_publish(actor=None, document=contract_document(), source="test")
    assert any("column extra that the contract does not declare" in w for w in outcome.warnings)


def test_gates_refuse_through_the_admin_form_without_saving(
    warehouse: str, client: Any, admin_user: Any
) -> None:
    # A superuser: the column/check inlines are not yet editable for domain owners (reported).
    admin_user.is_superuser = True
    admin_user.save()
    product = published(contract_document())
    client.force_login(admin_user)
    data = admin_post_data(product)
    data["version"] = product.version + 1
    data["columns-TOTAL_FORMS"] = 9
    data.update(
        {
            "columns-8-product": product.pk,
            "columns-8-position": 8,
            "columns-8-name": "customer_email",
            "columns-8-type": "string",
            "columns-8-description": "Buyer address",
            "columns-8-nullable": "on",
        }
    )
    response = client.post(f"/admin/catalog/dataproduct/{product.pk}/change/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "schema[8].pii: column customer_email looks like personal data" in page
    assert not product.columns.filter(name="customer_email").exists()


def test_admin_form_saves_through_the_gates_and_shows_policy_warnings(
    warehouse: str, client: Any, admin_user: Any
) -> None:
    admin_user.is_superuser = True
    admin_user.save()
    product = published(contract_document())
    client.force_login(admin_user)
    data = admin_post_data(product)
    data["description"] = "Rewritten in the admin."
    data["version"] = product.version + 1
    response = client.post(f"/admin/catalog/dataproduct/{product.pk}/change/", data, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "arning: schema[0]: column attribution_id is declared not nullable" in page
    product.refresh_from_db()
    assert product.description == "Rewritten in the admin."
    assert product.versions.first().changes[0]["path"] == "description"


def admin_post_data(product: DataProduct) -> dict[str, Any]:
    """The admin change form's POST for ``product`` as it stands."""
    data: dict[str, Any] = {
        "name": product.name,
        "description": product.description,
        "owner_team": product.owner_team,
        "owner_contact": product.owner_contact,
        "owner_slack_channel": product.owner_slack_channel,
        "sla_freshness": product.sla_freshness,
        "sla_availability": product.sla_availability,
        "sla_query_latency_p95_ms": product.sla_query_latency_p95_ms,
        "tags": json.dumps(product.tags),
        "version": product.version,
        "status": product.status,
        "table": product.table,
        "deprecation_sunset_at": "",
        "deprecation_replaced_by": "",
        "deprecation_reason": "",
    }
    columns = list(product.columns.all())
    checks = list(product.checks.all())
    for prefix, rows in (("columns", columns), ("checks", checks)):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = len(rows)
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
    for i, c in enumerate(columns):
        data.update(
            {
                f"columns-{i}-id": c.pk,
                f"columns-{i}-product": product.pk,
                f"columns-{i}-position": c.position,
                f"columns-{i}-name": c.name,
                f"columns-{i}-type": c.type,
                f"columns-{i}-description": c.description,
                f"columns-{i}-pii": "on" if c.pii else "",
                f"columns-{i}-nullable": "on" if c.nullable else "",
                f"columns-{i}-mask": c.mask,
            }
        )
    for i, q in enumerate(checks):
        data.update(
            {
                f"checks-{i}-id": q.pk,
                f"checks-{i}-product": product.pk,
                f"checks-{i}-position": q.position,
                f"checks-{i}-name": q.name,
                f"checks-{i}-type": q.type,
                f"checks-{i}-column": q.column,
                f"checks-{i}-params": json.dumps(q.params),
                f"checks-{i}-severity": q.severity,
            }
        )
    # Unchecked checkboxes are not posted at all.
    return {k: v for k, v in data.items() if not (v == "" and k.endswith(("-pii", "-nullable")))}
