"""Federated governance (issue 6): policies, the product lifecycle, table namespaces, scorecards.

One unit with the standard modules, so a reader knows where to look before opening anything:

- pure rules (no Django import; ``tests/test_layering.py`` keeps them so):
  ``policies.py`` (the global rules and how a domain tightens them), ``lifecycle.py`` (status
  moves, sunsets, what readers are told), ``namespace.py`` (which domain a table belongs to),
  ``conformance.py`` (the warehouse against the contract, value samples);
- ``gates.py``: the publish gates; ``catalog/services/publish.py`` calls them, in order;
- ``selectors.py``: reads (the rules in force, the policy catalogue, compliance scorecards);
- ``services.py``: writes (a global rule, deprecate, retire, retire at sunset);
- ``views.py`` and ``urls.py``: the pages under ``/governance/``; ``api/``: ``/v1/governance/``;
- templates: ``catalog/templates/catalog/governance.html`` and ``governance_domain.html``.

This module imports nothing, so the catalog's models may import the pure rules below it.
"""
