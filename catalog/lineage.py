"""Lineage read from the catalog (issue 16): the graph around a product, impact analysis, the
inputs a contract may declare, and keeping product consumers in step with those inputs.

Edges are ``Consumer`` rows: a consumer of kind ``product`` is a downstream product (its
``downstream``), every other kind is a leaf. The graph around a product is read in one query
per direction whatever the depth (issue 16's speed target): the database walks the product
edges recursively (``WITH RECURSIVE``, on PostgreSQL and SQLite alike) to find the products
within reach, and returns their edges with what the nodes show, whether the caller may see each
product (``accounts.permissions.restrict``'s rule, in the same query) and whether the graph goes
on beyond it. Python then walks those rows a level at a time, exactly as a query per level
would: each node at its shortest distance, and what is reached only through a product the
caller may not see is not reached. The pure part (nodes, impact, cycles) is
``catalog.lineage_graph``, shared with ``manage.py contract diff --impact``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.permissions import can, restrict
from catalog.contract.vocabulary import ProductStatus

from .lineage_graph import PRODUCT, Graph, Impact, Node, find_cycle, impact_of, product_key
from .models import Consumer, ConsumerChange, ConsumerChangeAction, ConsumerKind, DataProduct

MAX_DEPTH = 10
DEFAULT_DEPTH = 3
# Statuses a contract may name among its inputs (retired products serve nothing).
LIVE_INPUT_STATUSES = (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED, ProductStatus.DRAFT)


# What a product node shows, read with the consumer rows (paths for ``values()``).
PRODUCT_FIELDS = ("product_id", "name", "domain__slug", "status", "health", "owner_team")
CONSUMER_FIELDS = ("product_id", "kind", "name", "team", "url", "downstream_id")
Row = Mapping[str, Any]


def _product_node(row: Row, level: int, prefix: str = "") -> Node:
    """A product's node from a row holding ``PRODUCT_FIELDS``, each under ``prefix``."""
    return Node(
        key=product_key(row[f"{prefix}product_id"]),
        kind=PRODUCT,
        name=row[f"{prefix}name"],
        product_id=row[f"{prefix}product_id"],
        domain=row[f"{prefix}domain__slug"],
        status=row[f"{prefix}status"],
        health=row[f"{prefix}health"],
        team=row[f"{prefix}owner_team"],
        level=level,
    )


def _root_node(product: DataProduct) -> Node:
    return _product_node(
        {
            "product_id": product.product_id,
            "name": product.name,
            "domain__slug": product.domain.slug,
            "status": product.status,
            "health": product.health,
            "owner_team": product.owner_team,
        },
        0,
    )


def consumer_key(kind: str, name: str) -> str:
    """The node id of a consumer: one node per named thing (a dashboard on three products is
    one node with three edges)."""
    return f"consumer:{kind}:{name}"


def _consumer_node(row: Row, level: int) -> Node:
    return Node(
        key=consumer_key(row["kind"], row["name"] or row["team"]),
        kind=row["kind"],
        name=row["name"] or row["team"],
        team=row["team"],
        url=row["url"],
        level=level,
    )


@dataclass
class Lineage:
    """The graph around one product as ``user`` may see it, to ``depth`` levels each way."""

    product: DataProduct
    depth: int
    graph: Graph
    hidden: int = 0  # products (drafts of other domains) left out
    truncated: bool = False  # more levels exist beyond ``depth``
    former: list[ConsumerChange] = field(default_factory=list)

    @property
    def upstream(self) -> list[Node]:
        """The products it is built from, nearest first."""
        return sorted(
            (n for n in self.graph.nodes.values() if n.level < 0), key=lambda n: (-n.level, n.key)
        )

    @property
    def downstream(self) -> list[Node]:
        """What uses it, nearest first."""
        return sorted(
            (n for n in self.graph.nodes.values() if n.level > 0), key=lambda n: (n.level, n.key)
        )

    def to_dict(self) -> dict[str, Any]:
        """The lineage API's body; also the file ``contract diff --impact --lineage`` reads."""
        return {
            "product": self.product.product_id,
            "depth": self.depth,
            **self.graph.to_dict(),
            "upstream": [n.key for n in self.upstream],
            "downstream": [n.key for n in self.downstream],
            "hidden": self.hidden,
            "truncated": self.truncated,
            "formerConsumers": [former_dict(change) for change in self.former],
        }


def former_dict(change: ConsumerChange) -> dict[str, Any]:
    """A withdrawn consumer as the API lists it."""
    return {
        "kind": change.kind,
        "name": change.name,
        "team": change.team,
        "withdrawnAt": change.at.isoformat().replace("+00:00", "Z"),
        "note": change.note,
    }


def _visible(user: Any, product: DataProduct | None) -> bool:
    return product is not None and (user is None or can(user, "view", product))


def product_lineage(*, user: Any, product: DataProduct, depth: int = DEFAULT_DEPTH) -> Lineage:
    """Upstream products (what it is built from) and everything downstream (products built
    from it and consumers), ``depth`` levels each way, as ``user`` may see them.

    Three queries whatever the depth: the rows downstream, the rows upstream (module
    docstring) and the withdrawn consumers. Products the user may not see (other domains'
    drafts) are left out and counted in ``hidden``, and so is what is reached only through
    them; ``user=None`` sees everything (system callers: the publish gate, the demo).
    """
    depth = max(1, min(int(depth), MAX_DEPTH))
    graph = Graph(root=product_key(product.product_id))
    graph.add(_root_node(product))
    hidden_down, more_down = _walk_down(
        graph, product, _rows_down(product, depth, user), depth, left_out=_hidden
    )
    hidden_up, more_up = _walk_up(graph, product, _rows_up(product, depth, user), depth)
    return Lineage(
        product=product,
        depth=depth,
        graph=graph,
        hidden=hidden_down + hidden_up,
        truncated=more_down or more_up,
        former=former_consumers(product),
    )


def _hidden(row: Row) -> bool:
    return not row["visible"]


def _reach(product: DataProduct, steps: int, *, down: bool) -> RawSQL:
    """The ids of the products at most ``steps`` product edges from ``product`` (``down``:
    built from it, else what it is built from), itself included: the database walks the
    edges recursively, ``steps`` deep at most, so a cycle ends too."""
    quote = connection.ops.quote_name
    table = quote(Consumer._meta.db_table)
    used = quote(Consumer._meta.get_field("product").column)  # what is used
    built = quote(Consumer._meta.get_field("downstream").column)  # the product built from it
    kind = quote(Consumer._meta.get_field("kind").column)
    source, target = (used, built) if down else (built, used)
    return RawSQL(
        "WITH RECURSIVE reach(id, steps) AS (SELECT CAST(%s AS BIGINT), 0 UNION "
        f"SELECT c.{target}, reach.steps + 1 FROM {table} c JOIN reach ON c.{source} = reach.id "
        f"WHERE c.{kind} = %s AND c.{built} IS NOT NULL AND reach.steps < %s) "
        "SELECT id FROM reach",
        (product.pk, PRODUCT, steps),
    )


def _visible_to(user: Any, product_ref: str) -> Any:
    """Whether ``user`` may see the product the row's ``product_ref`` names: the
    permissions' own rule (``restrict``), in the same query; ``user=None`` sees every one."""
    if user is None:
        return Value(True, output_field=BooleanField())
    return Exists(restrict(DataProduct.objects.filter(pk=OuterRef(product_ref)), user, "view"))


def _rows_down(product: DataProduct, depth: int, user: Any) -> list[dict[str, Any]]:
    """The consumer rows of every product fewer than ``depth`` product edges downstream of
    ``product``, ordered by product, kind and name; each with its downstream product's node
    fields (``downstream__...``), ``visible`` (to ``user``) and ``more`` (that product has
    consumers of its own: the graph goes on beyond it)."""
    fields = [f"downstream__{name}" for name in PRODUCT_FIELDS]
    return list(
        Consumer.objects.filter(product_id__in=_reach(product, depth - 1, down=True))
        .annotate(
            visible=_visible_to(user, "downstream_id"),
            more=Exists(Consumer.objects.filter(product_id=OuterRef("downstream_id"))),
        )
        .order_by("product_id", "kind", "name")
        .values(*CONSUMER_FIELDS, *fields, "visible", "more")
    )


def _rows_up(product: DataProduct, depth: int, user: Any) -> list[dict[str, Any]]:
    """The product edges into every product fewer than ``depth`` edges upstream of
    ``product``, ordered by the product built and the id of the one it is built from; each
    with that input's node fields (``product__...``), ``visible`` and ``more`` (it has
    inputs of its own)."""
    fields = [f"product__{name}" for name in PRODUCT_FIELDS]
    return list(
        Consumer.objects.filter(
            kind=PRODUCT, downstream_id__in=_reach(product, depth - 1, down=False)
        )
        .annotate(
            visible=_visible_to(user, "product_id"),
            more=Exists(
                Consumer.objects.filter(downstream_id=OuterRef("product_id"), kind=PRODUCT)
            ),
        )
        .order_by("downstream_id", "product__product_id")
        .values("downstream_id", "product_id", *fields, "visible", "more")
    )


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[int, list[dict[str, Any]]]:
    """``rows`` by their ``key``, each group in the rows' order."""
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def _walk_down(
    graph: Graph,
    product: DataProduct,
    rows: list[dict[str, Any]],
    depth: int,
    *,
    left_out: Callable[[Row], bool],
) -> tuple[int, bool]:
    """Add what uses ``product`` to ``graph``, a level at a time, from ``_rows_down``'s rows:
    each node at its shortest distance, each product's consumers read once, as a query per
    level would. A product row ``left_out`` says to leave out is counted, not walked.
    Returns that count and whether the graph goes on beyond ``depth``."""
    by_source = _grouped(rows, "product_id")
    frontier = {product.pk: product.product_id}
    left = 0
    more = False
    for level in range(1, depth + 1):
        following: dict[int, str] = {}
        for pk in sorted(frontier):
            source = product_key(frontier[pk])
            for row in by_source.get(pk, ()):
                if row["kind"] != PRODUCT:
                    node = _consumer_node(row, level)
                    graph.add(node)
                    graph.link(source, node.key)
                    continue
                if row["downstream_id"] is None:
                    continue
                if left_out(row):
                    left += 1
                    continue
                node = _product_node(row, level, "downstream__")
                if graph.add(node):
                    following[row["downstream_id"]] = node.product_id
                    more = more or (level == depth and row["more"])
                graph.link(source, node.key)
        frontier = following
        if not frontier:
            break
    return left, more


def _walk_up(
    graph: Graph, product: DataProduct, rows: list[dict[str, Any]], depth: int
) -> tuple[int, bool]:
    """Add what ``product`` is built from to ``graph``, a level at a time, from ``_rows_up``'s
    rows (as ``_walk_down``, the other way). Returns how many inputs were hidden and whether
    the graph goes on beyond ``depth``."""
    by_target = _grouped(rows, "downstream_id")
    frontier = {product.pk: product.product_id}
    hidden = 0
    more = False
    for level in range(1, depth + 1):
        following: dict[int, str] = {}
        for pk in sorted(frontier):
            target = product_key(frontier[pk])
            for row in by_target.get(pk, ()):
                if _hidden(row):
                    hidden += 1
                    continue
                node = _product_node(row, -level, "product__")
                if graph.add(node):
                    following[row["product_id"]] = node.product_id
                    more = more or (level == depth and row["more"])
                graph.link(node.key, target)
        frontier = following
        if not frontier:
            break
    return hidden, more


def former_consumers(product: DataProduct, *, limit: int = 20) -> list[ConsumerChange]:
    """Consumers withdrawn from ``product`` that are not registered on it again, newest first
    (one query)."""
    registered = Consumer.objects.filter(
        product=product, kind=OuterRef("kind"), name=OuterRef("name")
    )
    withdrawn = (
        ConsumerChange.objects.filter(product=product, action=ConsumerChangeAction.WITHDRAWN)
        .exclude(Exists(registered))
        .order_by("-at", "-id")
    )
    out: list[ConsumerChange] = []
    seen: set[tuple[str, str]] = set()
    for change in withdrawn[: limit * 5]:
        key = (change.kind, change.name)
        if key in seen:
            continue
        seen.add(key)
        out.append(change)
        if len(out) == limit:
            break
    return out


def downstream_graph(product: DataProduct) -> tuple[Graph, int]:
    """Everything downstream of ``product`` (``MAX_DEPTH`` levels), for impact analysis, and
    how many draft products were left out (a draft is nobody's production dependency, and its
    name is its domain's business until it is published). One query."""
    graph = Graph(root=product_key(product.product_id))
    graph.add(_root_node(product))
    drafts, _ = _walk_down(
        graph,
        product,
        _rows_down(product, MAX_DEPTH, None),
        MAX_DEPTH,
        left_out=lambda row: row["downstream__status"] == ProductStatus.DRAFT,
    )
    return graph, drafts


def product_impact(product: DataProduct) -> Impact:
    """Every consumer and downstream product a breaking change of ``product`` reaches."""
    graph, _ = downstream_graph(product)
    return impact_of(graph)


def product_impact_by_id(product_id: str) -> Impact | None:
    """``product_impact`` of the product called ``product_id``; None when there is none."""
    product = DataProduct.objects.select_related("domain").filter(product_id=product_id).first()
    return product_impact(product) if product is not None else None


# ---------------------------------------------------------------------------------------------
# Inputs: what the publish gate checks and what the publish records
# ---------------------------------------------------------------------------------------------


def input_problems(product_id: str, inputs: Sequence[str]) -> list[tuple[int, str]]:
    """``(index, message)`` for each input that is unknown or retired, and for a cycle the
    inputs would close (``a → b → a``). Two queries (the inputs' statuses, then the product
    edges downstream of the product, a level at a time), none when there are no inputs."""
    if not inputs:
        return []
    statuses = dict(
        DataProduct.objects.filter(product_id__in=list(inputs)).values_list("product_id", "status")
    )
    problems: list[tuple[int, str]] = []
    for index, input_id in enumerate(inputs):
        status = statuses.get(input_id)
        if status is None:
            problems.append((index, f"no data product {input_id!r}"))
        elif status == ProductStatus.RETIRED:
            problems.append((index, f"{input_id} is retired; a product cannot be built from it"))
    cycle = find_cycle(product_id, inputs, _downstream_ids(product_id))
    if cycle:
        index = list(inputs).index(cycle[-2]) if cycle[-2] in inputs else 0
        problems.append(
            (index, "inputs would form a cycle: " + " → ".join(cycle) + " (each feeds the next)")
        )
    return problems


def _downstream_ids(product_id: str) -> dict[str, list[str]]:
    """Product id → ids of the products built from it, for everything downstream of
    ``product_id`` (one query per level)."""
    out: dict[str, list[str]] = {}
    frontier = [product_id]
    seen = {product_id}
    for _ in range(MAX_DEPTH * 10):
        rows = Consumer.objects.filter(
            kind=PRODUCT, product__product_id__in=frontier, downstream__isnull=False
        ).values_list("product__product_id", "downstream__product_id")
        following = []
        for upstream, downstream in rows:
            out.setdefault(upstream, []).append(downstream)
            if downstream not in seen:
                seen.add(downstream)
                following.append(downstream)
        if not following:
            break
        frontier = following
    return out


def inputs_record(
    *, product: DataProduct, inputs: Iterable[str], actor: Any, now: datetime | None = None
) -> None:
    """Make ``product`` a consumer (kind ``product``) of exactly its ``inputs``: register the
    new ones, withdraw the dropped ones (both kept as ConsumerChange). A retired product
    consumes nothing. Runs inside the publish's transaction, under its lock."""
    now = now or timezone.now()
    wanted = [] if product.status == ProductStatus.RETIRED else list(inputs)
    current = {
        link.product.product_id: link
        for link in Consumer.objects.filter(downstream=product, kind=PRODUCT).select_related(
            "product"
        )
    }
    upstream = {p.product_id: p for p in DataProduct.objects.filter(product_id__in=wanted)}
    changes: list[ConsumerChange] = []
    for input_id, link in current.items():
        if input_id not in wanted:
            link.delete()
            withdrawn = ConsumerChangeAction.WITHDRAWN
            changes.append(_change(link.product, product, withdrawn, actor, now))
    for input_id in wanted:
        source = upstream.get(input_id)
        if source is None or input_id in current:
            continue
        # A row of another kind never carries this name; a stale product row by that name
        # (its downstream deleted and recreated) is replaced.
        Consumer.objects.filter(product=source, kind=PRODUCT, name=product.product_id).delete()
        Consumer.objects.create(
            product=source,
            kind=ConsumerKind.PRODUCT,
            name=product.product_id,
            downstream=product,
            team=product.owner_team,
            contact=product.owner_contact,
            use_case=f"input of {product.product_id} ({product.name})",
            registered_by=actor if getattr(actor, "pk", None) else None,
        )
        changes.append(_change(source, product, ConsumerChangeAction.REGISTERED, actor, now))
    ConsumerChange.objects.bulk_create(changes)


def _change(
    upstream: DataProduct, downstream: DataProduct, action: str, actor: Any, now: datetime
) -> ConsumerChange:
    return ConsumerChange(
        product=upstream,
        kind=ConsumerKind.PRODUCT,
        name=downstream.product_id,
        team=downstream.owner_team,
        action=action,
        note="from the contract's inputs",
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
    )


def dependents_of(product: DataProduct, *, user: Any = None) -> list[Consumer]:
    """Who still depends on ``product`` (its current consumers, products included), for the
    deprecation warning and the product page; restricted to what ``user`` may see when given."""
    qs = Consumer.objects.filter(product=product).select_related("downstream")
    if user is not None:
        qs = restrict(qs, user, "view")
    return [
        c
        for c in qs.order_by("kind", "name")
        if c.kind != PRODUCT or c.downstream is None or _visible(user, c.downstream)
    ]
