"""Demo domains, users and registered consumers. Pure data: no Django import.

Passwords are deterministic on purpose (``demo-<username>``) so the README and the seed output
can print them; the demo is for local use only.
"""

from __future__ import annotations

from typing import TypedDict


class DemoDomain(TypedDict):
    name: str
    description: str


class DemoUser(TypedDict):
    username: str
    password: str
    role: str  # analyst | manager | admin
    team: str | None  # domain slug of the user's team, None for business users and the admin
    owner: bool  # owner of ``team``: may publish and deprecate its products
    email: str
    name: str  # first and last name, shown where the portal names a person (product owners)


class _DemoConsumerBase(TypedDict):
    product: str  # product id
    team: str
    useCase: str  # the write-up's camelCase API field
    contact: str


class DemoConsumer(_DemoConsumerBase, total=False):
    kind: str  # dashboard | application | notebook | team (default team, named after it)
    name: str
    url: str


DEMO_DOMAINS: dict[str, DemoDomain] = {
    "marketing": {
        "name": "Marketing",
        "description": "Campaigns, attribution, e-mail, paid media and customer segments.",
    },
    "product": {
        "name": "Product",
        "description": "Storefront behaviour: funnels, search, experiments, feature adoption.",
    },
    "finance": {
        "name": "Finance",
        "description": "Orders, revenue, refunds and B2B invoicing.",
    },
    "ops": {
        "name": "Operations",
        "description": "Fulfilment, shipping, inventory, suppliers and customer support.",
    },
    "engineering": {
        "name": "Engineering",
        "description": "Platform health: API latency, errors, deployments and incidents.",
    },
}


def _user(
    username: str, name: str, role: str, team: str | None = None, owner: bool = False
) -> DemoUser:
    return {
        "username": username,
        "password": f"demo-{username}",
        "role": role,
        "team": team,
        "owner": owner,
        "email": f"{username}@company.com",
        "name": name,
    }


DEMO_USERS: list[DemoUser] = [
    _user("admin", "Ada Admin", "admin"),
    # One owner per domain; a few plain members (they see their domain's PII unmasked).
    _user("maya.marketing", "Maya Lindqvist", "manager", "marketing", owner=True),
    _user("mo.marketing", "Mo Haddad", "analyst", "marketing"),
    _user("priya.product", "Priya Raman", "manager", "product", owner=True),
    _user("pablo.product", "Pablo Ortega", "analyst", "product"),
    _user("fiona.finance", "Fiona Walsh", "manager", "finance", owner=True),
    _user("felix.finance", "Felix Baumann", "analyst", "finance"),
    _user("omar.ops", "Omar Diallo", "manager", "ops", owner=True),
    _user("erin.engineering", "Erin Novak", "manager", "engineering", owner=True),
    # Business users outside every domain team: masked PII, query published products.
    _user("ana.analyst", "Ana Costa", "analyst"),
    _user("max.manager", "Max Keller", "manager"),
    _user("yuki.vp", "Yuki Sato", "manager"),
]

CEO_DASHBOARD = "Executive / CEO dashboard"
LEGACY_REVENUE = "finance.revenue_daily_legacy"
# The demo's past (quality/demo_history.py): the dashboard was registered on the legacy table
# this many days ago, and moved off it to its three products this many days ago.
CEO_DASHBOARD_MOVE = {"registeredDaysAgo": 110, "movedDaysAgo": 45}

DEMO_CONSUMERS: list[DemoConsumer] = [
    # The write-up's cautionary tale, resolved (issue 16): the CEO dashboard read the deprecated
    # legacy table, and moved to three validated products (CEO_DASHBOARD_MOVE says when).
    *(
        DemoConsumer(
            product=product_id,
            team="Executive office",
            useCase=use_case,
            contact="ceo-office@company.com",
            kind="dashboard",
            name=CEO_DASHBOARD,
            url="https://bi.company.com/dashboards/ceo-weekly",
        )
        for product_id, use_case in (
            ("finance.orders_revenue", "Revenue tiles of the weekly CEO dashboard"),
            ("finance.refunds", "Refund-rate tile of the weekly CEO dashboard"),
            ("finance.invoices", "B2B billing tile of the weekly CEO dashboard"),
        )
    ),
    {
        "product": "marketing.campaign_attribution",
        "team": "Growth Marketing",
        "useCase": "Weekly channel budget reallocation by multi-touch attributed revenue",
        "contact": "growth@company.com",
    },
    {
        "product": "product.funnel_events",
        "team": "Board reporting",
        "useCase": "Conversion funnel slide of the quarterly board deck",
        "contact": "strategy@company.com",
    },
    {
        "product": "finance.orders_revenue",
        "team": "FP&A",
        "useCase": "Monthly revenue close and forecast",
        "contact": "fpa@company.com",
    },
    {
        "product": "ops.inventory_levels",
        "team": "Merchandising",
        "useCase": "Daily reorder suggestions and out-of-stock alerts",
        "contact": "merch@company.com",
    },
    {
        "product": "marketing.email_engagement",
        "team": "CRM",
        "useCase": "Open and click rates per lifecycle campaign",
        "contact": "crm@company.com",
    },
    {
        "product": "engineering.api_latency",
        "team": "SRE",
        "useCase": "Latency SLO burn-rate alerts",
        "contact": "sre@company.com",
    },
    {
        "product": "ops.support_tickets",
        "team": "Customer Experience",
        "useCase": "CSAT and first-response-time dashboard",
        "contact": "cx@company.com",
    },
]


class DemoAccess(TypedDict):
    """An access request the demo starts with (issue 17): approved (a grant) or pending."""

    requester: str
    product: str
    columns: list[str]
    purpose: str
    days: int
    decider: str  # the owner who approved it, or who is to decide it
    approved: bool
    note: str


DEMO_ACCESS: list[DemoAccess] = [
    {
        "requester": "ana.analyst",
        "product": "finance.invoices",
        "columns": ["billing_email"],
        "purpose": "Reconcile failed card payments with the billing team: we need the billing "
        "e-mail to contact the customers whose invoices bounced last month.",
        "days": 30,
        "decider": "fiona.finance",
        "approved": True,
        "note": "OK for the reconciliation; billing e-mails only.",
    },
    {
        "requester": "max.manager",
        "product": "marketing.customer_segments",
        "columns": ["customer_id"],
        "purpose": "Join the segments with the CRM export to size the win-back campaign for "
        "lapsed customers before the quarterly planning.",
        "days": 14,
        "decider": "maya.marketing",
        "approved": False,
        "note": "",
    },
]
