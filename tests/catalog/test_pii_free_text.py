"""Sampled values that are people's names or postal addresses are personal data (issue 11).

Generated columns: names and addresses in several shapes must be flagged; city, product,
campaign, company and street names, job titles and sentences must not. The demo warehouse's
real columns are checked too: its name and address columns are caught when unflagged, and no
other string column of any demo product trips the detectors.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from catalog.contract import parse_contract
from catalog.demo import load_demo_contracts
from catalog.demo.warehouse import build_demo_warehouse
from catalog.governance.conformance import sample_values
from catalog.governance.policies import (
    PolicyRule,
    evaluate_policies,
    looks_like_personal_name,
    looks_like_postal_address,
    pii_category_for_value,
)
from querying.warehouses import warehouse_from_url
from tests.factories import contract_document

SAMPLED = [PolicyRule("pii.sampled_values", "error", {"threshold": 0.5, "min_samples": 1})]

# Written for these tests (not the detector's list): given names and surnames from many places.
FIRST = """James Mary Robert Patricia Michael Linda William Elizabeth David Jennifer Richard Susan
Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra
Maria Jose Juan Ana Luis Carmen Mohammed Fatima Ahmed Aisha Wei Li Yuki Hiroshi Priya Rahul
Olga Ivan Sofia Lukas Emma Noah Chloe Hugo Ingrid Lars Amara Kwame Omar Leila Diego Camila
Mateo Valentina Giulia Marco Anna Jan Eva Pierre Sophie Kenji Mei Arjun Ananya Tariq
Zainab""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Müller Schmidt Schneider Fischer Weber Dubois Laurent Bernard Rossi Russo Ferrari Esposito
Nowak Kowalski Ivanov Petrova Tanaka Suzuki Sato Kim Park Nguyen Tran Chen Wang Zhang Patel
Sharma Singh Okafor Mensah Haddad Cohen Levi Andersson Johansson Nielsen Hansen Silva Santos
O'Brien O'Connor McDonald MacLeod Van Dijk De Vries""".split()
STREET_NAMES = """Maple Oak Pine Cedar Elm Washington Lincoln Jefferson Park Lake Hill Church Mill
Station Market Bridge Canal High Main Spring Sunset River Forest Meadow Harbor Victoria King
Queen Chestnut Willow Birch Highland Orchard Union""".split()
STREET_TYPES = """Street St Avenue Ave Road Rd Lane Ln Drive Dr Boulevard Blvd Court Ct Place Way
Terrace Square Row Parkway Circle Close Crescent""".split()
CITIES = """Springfield, IL 62704|Portland, OR 97205|Austin, TX 78701|London EC1A 1BB|Leeds LS1 4AP
|Toronto, ON M5H 2N2|Sydney NSW 2000|Dublin D02 X285|Auckland 1010""".replace("\n", "").split("|")
CONTINENTAL = [
    "{n}straße {h}, 10115 Berlin",
    "{n}weg {h}, 80331 München",
    "{n}gasse {h}, 1010 Wien",
    "{h} rue de la {n}, 75002 Paris",
    "Via {n} {h}, 20121 Milano",
    "Calle {n} {h}, 28013 Madrid",
    "{n}gracht {h}, 1015 Amsterdam",
    "{n}gatan {h}, 111 22 Stockholm",
]


def names(rng: random.Random, n: int = 200) -> list[str]:
    out = []
    for _ in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        shape = rng.randrange(6)
        if shape == 0:
            out.append(f"{first} {last}")
        elif shape == 1:
            out.append(f"{last}, {first}")
        elif shape == 2:
            out.append(f"{first} {rng.choice(FIRST)[0]}. {last}")
        elif shape == 3:
            out.append(f"{rng.choice(['Mr.', 'Ms.', 'Dr.', 'Mrs'])} {first} {last}")
        elif shape == 4:
            out.append(f"{first} {last}".upper())
        else:
            out.append(f"{first} {rng.choice(FIRST)} {last}")
    return out


def addresses(rng: random.Random, n: int = 200) -> list[str]:
    out = []
    for _ in range(n):
        house = rng.randrange(1, 9999)
        if rng.random() < 0.25:
            template = rng.choice(CONTINENTAL)
            out.append(template.format(n=rng.choice(STREET_NAMES), h=house))
            continue
        street = f"{house} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
        if rng.random() < 0.3:
            street += f" {rng.choice(['Apt', 'Suite', 'Unit', '#'])} {rng.randrange(1, 400)}"
        out.append(f"{street}, {rng.choice(CITIES)}" if rng.random() < 0.8 else street)
    return out


NOT_PERSONAL = {
    "cities": (
        "New York|Los Angeles|San Francisco|San Jose|Santa Clara|St. Louis|Fort Worth|"
        "Victoria|Charlotte|Jackson|Lake Charles|Alexandria|Georgetown|Springfield, IL 62704|"
        "Berlin|München|Paris|London EC1A 1BB|Amsterdam 1012 AB|Rio de Janeiro|Buenos Aires|"
        "Mexico City|Cape Town|Hong Kong|Kuala Lumpur|Tel Aviv|Salt Lake City|Elizabeth City|"
        "Victoria Falls|Grace Bay|Mount Pleasant|Palm Springs|Santa Monica|Virginia Beach"
    ),
    "products": (
        "Ergonomic Office Chair|Trail Running Shoe|Wireless Earbuds Pro|Model S|iPhone 15 Pro|"
        "Organic Green Tea|Stainless Steel Bottle|Standing Desk Frame|Noise Cancelling Headphones|"
        "Kids Rain Jacket|Espresso Machine|Yoga Mat Plus|Smart Watch Series 9|Rose Gold Case|"
        "Mini Drone|Cast Iron Skillet|Bamboo Cutting Board|LED Desk Lamp|Gaming Mouse|Air Fryer Max"
    ),
    "campaigns": (
        "Summer Sale 2024|Black Friday Blast|Back to School|Spring Launch|Holiday Gift Guide|"
        "Cyber Monday Deals|Welcome Series|Win-back Q3|Brand Awareness Video|Retargeting - Cart|"
        "Grace Period Promo|Valentine's Day Special|Mother's Day Offer|New Year Countdown|"
        "Free Shipping Weekend|Loyalty Double Points|Flash Sale 48h|Emma Bridgewater Collab Launch"
    ),
    "companies": (
        "Acme Corp|Globex Inc|Initech|Umbrella Group|Stark Industries|Wayne Enterprises|"
        "Tyrell Corporation|Cyberdyne Systems|Soylent Co|Hooli|Pied Piper|Vandelay Industries|"
        "Wonka Industries|Oscorp|Massive Dynamic|Aperture Science|Black Mesa|Weyland-Yutani"
    ),
    "streets_without_numbers": (
        "Maple Street|Oak Avenue|Canal Road|Station Square|Harbor Lane|Elm Drive|Market Street|"
        "Park Row|Mill Lane|Cedar Court|Bridge Street|Hill Road|Main St|High Street"
    ),
    "job_titles": (
        "Senior Data Engineer|Product Manager|Head of Growth|Account Executive|"
        "Customer Success Lead|Chief Financial Officer|Warehouse Associate|Support Agent"
    ),
    "sentences": (
        "Delivered to the front desk|Customer asked for a refund|Package left at the door|"
        "Payment failed, retry scheduled|Order shipped from Rotterdam|Item out of stock|"
        "Refund approved by support|Address could not be verified"
    ),
    "codes": (
        "SKU-10023|INV-2024-0001|cus-000123|usr-004211|A1B2C3|PO-7781|2024 Q3|v2.3.1|"
        "EUR|USD|GBP|desktop|mobile|tablet|paid|organic|referral"
    ),
}


def share(values: list[str], detector: Any) -> float:
    return sum(1 for v in values if detector(v)) / len(values)


@pytest.mark.parametrize("seed", range(5))
def test_generated_personal_names_are_recognised(seed: int) -> None:
    values = names(random.Random(seed))
    assert share(values, looks_like_personal_name) >= 0.8
    assert share(values, pii_category_for_value) >= 0.8


@pytest.mark.parametrize("seed", range(5))
def test_generated_postal_addresses_are_recognised(seed: int) -> None:
    values = addresses(random.Random(seed))
    assert share(values, looks_like_postal_address) >= 0.95
    assert {pii_category_for_value(v) for v in values} <= {"postal address", None}


@pytest.mark.parametrize("kind", sorted(NOT_PERSONAL))
def test_place_product_campaign_and_company_names_are_not_personal(kind: str) -> None:
    values = NOT_PERSONAL[kind].split("|")
    hits = [v for v in values if pii_category_for_value(v)]
    # A stray value may look like a name ("Rose Gold Case" is not, but a column is judged by
    # its share); far under the policy's threshold either way.
    assert len(hits) / len(values) <= 0.1, hits


def column_doc(values_name: str) -> dict[str, Any]:
    doc = contract_document()
    doc["schema"].append({"column": values_name, "type": "string", "description": "free text"})
    return doc


@pytest.mark.parametrize("seed", range(3))
def test_the_policy_flags_a_name_column_and_an_address_column(seed: int) -> None:
    rng = random.Random(seed)
    doc = contract_document()
    for column in ("who", "where"):
        doc["schema"].append({"column": column, "type": "string", "description": "free text"})
    contract = parse_contract(doc)
    samples = {"who": names(rng), "where": addresses(rng)}
    found = {v.path: v.message for v in evaluate_policies(contract, SAMPLED, samples=samples)}
    assert "mostly person's name" in found["schema[8].pii"]
    assert "mostly postal address" in found["schema[9].pii"]


@pytest.mark.parametrize("kind", sorted(NOT_PERSONAL))
def test_the_policy_leaves_non_personal_columns_alone(kind: str) -> None:
    contract = parse_contract(column_doc("label"))
    samples = {"label": NOT_PERSONAL[kind].split("|") * 5}
    assert evaluate_policies(contract, SAMPLED, samples=samples) == []


# --- the demo warehouse's own columns -----------------------------------------------------------


@pytest.fixture(scope="module")
def demo_samples(tmp_path_factory: Any) -> dict[str, dict[str, list[str]]]:
    """Sampled string values of every demo product, read from a freshly built warehouse."""
    path: Path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_warehouse(path, now=datetime(2026, 1, 15, 12, tzinfo=UTC))
    warehouse = warehouse_from_url(f"duckdb:///{path}")
    out = {}
    for doc in load_demo_contracts():
        found = sample_values(warehouse, parse_contract(doc))
        assert found is not None, doc["id"]
        out[doc["id"]] = found
    return out


def test_no_unflagged_demo_column_trips_the_value_detectors(
    demo_samples: dict[str, dict[str, list[str]]],
) -> None:
    for doc in load_demo_contracts():
        contract = parse_contract(doc)
        violations = evaluate_policies(contract, SAMPLED, samples=demo_samples[doc["id"]])
        assert violations == [], (doc["id"], violations)


def test_the_demos_name_and_address_columns_are_caught_when_unflagged(
    demo_samples: dict[str, dict[str, list[str]]],
) -> None:
    expected = {
        ("product.user_signups", "full_name"): "person's name",
        ("finance.invoices", "billing_address"): "postal address",
        ("ops.shipments", "shipping_address"): "postal address",
    }
    docs = {d["id"]: d for d in load_demo_contracts()}
    for (product_id, column), category in expected.items():
        doc = docs[product_id]
        for col in doc["schema"]:
            col["pii"] = False
            col.pop("mask", None)
        contract = parse_contract(doc)
        index = [c.column for c in contract.schema].index(column)
        found = {
            v.path: v.message
            for v in evaluate_policies(contract, SAMPLED, samples=demo_samples[product_id])
        }
        assert f"mostly {category}" in found[f"schema[{index}].pii"], (product_id, found)
