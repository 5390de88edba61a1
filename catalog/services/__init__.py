"""Writes to the catalog, one module per sub-domain (transactions and on-commit tasks live here):

- ``publish.py``: what happens when an owner publishes: the one pipeline, gates in order;
- ``consumers.py``: consumer registrations, and the notices consumers get after a publish;
- ``domains.py``: domain settings and ``manage.py add_domain``'s upsert;
- ``history.py``: the dates of a product's first draft and first published versions;
- ``locks.py``: the row locks the writes above take.

Governance writes (a global rule, deprecate, retire) are in ``catalog/governance/services.py``.
Callers import from here: ``from catalog.services import product_publish``.
"""

from catalog.documents import contract_input, product_contract, product_document

from .consumers import ConsumerTaken, consumer_register, consumer_withdraw, consumers_notify
from .domains import (
    DomainSettingsDenied,
    DomainSettingsInvalid,
    domain_update,
    domain_upsert,
    webhook_url_problem,
)
from .history import first_versions_refresh
from .publish import PublishConflict, PublishOutcome, PublishRefused, product_publish

__all__ = [
    "ConsumerTaken",
    "DomainSettingsDenied",
    "DomainSettingsInvalid",
    "PublishConflict",
    "PublishOutcome",
    "PublishRefused",
    "consumer_register",
    "consumer_withdraw",
    "consumers_notify",
    "contract_input",
    "domain_update",
    "domain_upsert",
    "first_versions_refresh",
    "product_contract",
    "product_document",
    "product_publish",
    "webhook_url_problem",
]
