"""Access with consent (issue 17): request, approve, deny, revoke, cancel and expire raw access.

Where the parts live, and why here:

- the rows (``AccessRequest``, ``AccessEvent``) are ``accounts.access_models``, and who reads
  raw values (grants included) is ``accounts.permissions``: the one policy;
- the governor enforces a grant per column (``querying.selectors.query_policy`` hands it the
  granted columns unmasked, each with its justification) and the audit log keeps, for every
  raw column read, why (``querying.services``);
- this package holds the writes, their notifications, the API, the pages and the beat tasks.
  It sits in querying, the highest app layer, because telling owners reuses quality's senders
  (e-mail, the domain's Slack webhook) and the README's layer order lets only quality and
  querying import them.
"""
