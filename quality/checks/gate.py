"""The one gate for `custom_sql` checks: the query governor, scoped to the check's own product.

A custom check's SQL goes through ``querying.governor.govern`` exactly as an analyst's query
does (one SELECT, the allowlist, names compared as the engine compares them, fail closed), with
a policy that lists only the check's own product (by id, short name or physical table): a check
reads its own product and nothing else.

It reads that product **through the PII masks** (issue 21): a check result is shown to everyone
who can read the product, mailed to its consumers and posted to Slack, so what a check computes
over a PII column must never be more than any reader could compute with a governed query. A
check over the masked view can still count NULLs, duplicates (the ``hash`` mask is injective)
and e-mail domains, but ``ascii(substr(email, 1, 1))`` sees ``*``, not a letter. Columns that
are not PII are read raw, as for every reader. The engine's result must be one integer count
(evaluate.py); the portal writes the message from that number, never from the data.

The adapters are hardened on top of this (DuckDB without external access, a PostgreSQL role
that can only SELECT, read-only transactions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from catalog.contract.vocabulary import DEFAULT_MASK
from querying.governor import ColumnPolicy, Policy, ProductPolicy, QueryRefused, govern
from querying.governor.policy import NULL_MASK_TYPES

from .specs import ProductSpec


class CustomSqlRefused(ValueError):
    """A custom check's SQL was refused by the gate."""


@dataclass(frozen=True)
class GatedSql:
    """What a custom check sends: governed SQL and the session it reads (the hash key)."""

    sql: str
    session: Mapping[str, str] = field(default_factory=dict, repr=False)
    masked_columns: tuple[str, ...] = ()  # PII columns the check read through their masks


GateFunction = Callable[[str], GatedSql]
# When no key is given (publish-time validation only), hashes are computed with this stand-in;
# the key is never part of the SQL, so nothing else changes.
_VALIDATION_KEY = "validation-only"


def custom_check_policy(spec: ProductSpec, *, hash_key: str) -> Policy:
    """The product alone, PII columns masked: what a custom check of ``spec`` may read."""
    return Policy(
        products=(
            ProductPolicy(
                product_id=spec.product_id,
                table=spec.table,
                columns=tuple(
                    ColumnPolicy(
                        name=c.name,
                        mask=(c.mask or DEFAULT_MASK) if c.pii else None,
                        type=NULL_MASK_TYPES.get(c.type),
                    )
                    for c in spec.columns
                ),
                names=(spec.short_name,),
            ),
        ),
        hash_key=hash_key or _VALIDATION_KEY,
        max_rows=None,
    )


def gate_custom_sql(sql: str, *, spec: ProductSpec, dialect: str, hash_key: str = "") -> GatedSql:
    """The SQL to execute for a custom check of ``spec``, or raise CustomSqlRefused."""
    if not isinstance(sql, str) or not sql.strip():
        raise CustomSqlRefused("custom_sql needs params.sql: one SELECT returning a single count")
    if not spec.columns:
        raise CustomSqlRefused(f"{spec.product_id} declares no columns for custom SQL to read")
    try:
        governed = govern(sql, custom_check_policy(spec, hash_key=hash_key), dialect=dialect)
    except QueryRefused as exc:
        raise CustomSqlRefused(exc.message) from None
    return GatedSql(
        sql=governed.sql,
        session=dict(governed.session),
        masked_columns=tuple(c.name for c in spec.columns if c.pii),
    )


def make_default_gate(spec: ProductSpec, dialect: str, hash_key: str = "") -> GateFunction:
    """The gate for ``spec``'s custom checks in ``dialect``."""

    def gate(sql: str) -> GatedSql:
        return gate_custom_sql(sql, spec=spec, dialect=dialect, hash_key=hash_key)

    return gate
