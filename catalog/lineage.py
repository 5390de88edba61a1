"""Lineage read from the catalog (issue 16): the graph around a product, impact analysis, the
inputs a contract may declare, and keeping product consumers in step with those inputs.

Edges are ``Consumer`` rows: a consumer of kind ``product`` is a downstream product (its
``downstream``), every other kind is a leaf. The graph is read one query per level and
direction (``product_lineage``), never one per node. The pure part (nodes, impact, cycles) is
``catalog.lineage_graph``, shared with ``manage.py contract diff --impact``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.permissions import can, restrict
from catalog.contract.vocabulary import ProductStatus

from .lineage_graph import PRODUCT, Graph, Impact, Node, find_cycle, impact_of, product_key
from .models import Consumer, ConsumerChange, ConsumerChangeAction, ConsumerKind, DataProduct

MAX_DEPTH = 10
DEFAULT_DEPTH = 3
# Statuses a contract may name among its inputs (retired products serve nothing).
LIVE_INPUT_STATUSES = (ProductStatus.PUBLISHED, ProductStatus.DEPRECATED, ProductStatus.DRAFT)


def _product_node(product: DataProduct, level: int) -> Node:
    return Node(
        key=product_key(product.product_id),
        kind=PRODUCT,
        name=product.name,
        product_id=product.product_id,
        domain=product.domain.slug,
        status=product.status,
        health=product.health,
        team=product.owner_team,
        level=level,
    )


def consumer_key(kind: str, name: str) -> str:
    """The node id of a consumer: one node per named thing (a dashboard on three products is
    one node with three edges)."""
    return f"consumer:{kind}:{name}"


def _consumer_node(consumer: Consumer, level: int) -> Node:
    return Node(
        key=consumer_key(consumer.kind, consumer.name or consumer.team),
        kind=consumer.kind,
        name=consumer.name or consumer.team,
        team=consumer.team,
        url=consumer.url,
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

    One query per level and direction, plus one for the withdrawn consumers. Products the user
    may not see (other domains' drafts) are left out and counted in ``hidden``; ``user=None``
    sees everything (system callers: the publish gate, the demo).
    """
    depth = max(1, min(int(depth), MAX_DEPTH))
    graph = Graph(root=product_key(product.product_id))
    graph.add(_product_node(product, 0))
    lineage = Lineage(product=product, depth=depth, graph=graph)
    frontier = {product.pk: product}
    for level in range(1, depth + 1):
        rows = (
            Consumer.objects.filter(product_id__in=list(frontier))
            .select_related("downstream__domain")
            .order_by("product_id", "kind", "name")
        )
        following: dict[int, DataProduct] = {}
        for consumer in rows:
            source = product_key(frontier[consumer.product_id].product_id)
            if consumer.kind == PRODUCT:
                downstream = consumer.downstream
                if not _visible(user, downstream):
                    lineage.hidden += 1
                    continue
                assert downstream is not None
                if graph.add(_product_node(downstream, level)):
                    following[downstream.pk] = downstream
                graph.link(source, product_key(downstream.product_id))
            else:
                node = _consumer_node(consumer, level)
                graph.add(node)
                graph.link(source, node.key)
        frontier = following
        if not frontier:
            break
    else:
        lineage.truncated = lineage.truncated or bool(
            frontier and Consumer.objects.filter(product_id__in=list(frontier)).exists()
        )
    frontier = {product.pk: product}
    for level in range(1, depth + 1):
        links = (
            Consumer.objects.filter(downstream_id__in=list(frontier), kind=PRODUCT)
            .select_related("product__domain")
            .order_by("downstream_id", "product__product_id")
        )
        following = {}
        for link in links:
            upstream = link.product
            if not _visible(user, upstream):
                lineage.hidden += 1
                continue
            assert link.downstream_id is not None
            if graph.add(_product_node(upstream, -level)):
                following[upstream.pk] = upstream
            target = product_key(frontier[link.downstream_id].product_id)
            graph.link(product_key(upstream.product_id), target)
        frontier = following
        if not frontier:
            break
    else:
        lineage.truncated = lineage.truncated or bool(
            frontier
            and Consumer.objects.filter(downstream_id__in=list(frontier), kind=PRODUCT).exists()
        )
    lineage.former = former_consumers(product)
    return lineage


def former_consumers(product: DataProduct, *, limit: int = 20) -> list[ConsumerChange]:
    """Consumers withdrawn from ``product`` that are not registered on it again, newest first."""
    current = set(Consumer.objects.filter(product=product).values_list("kind", "name"))
    withdrawn = ConsumerChange.objects.filter(
        product=product, action=ConsumerChangeAction.WITHDRAWN
    ).order_by("-at", "-id")
    out: list[ConsumerChange] = []
    seen: set[tuple[str, str]] = set()
    for change in withdrawn[: limit * 5]:
        key = (change.kind, change.name)
        if key in current or key in seen:
            continue
        seen.add(key)
        out.append(change)
        if len(out) == limit:
            break
    return out


def downstream_graph(product: DataProduct) -> tuple[Graph, int]:
    """Everything downstream of ``product`` (``MAX_DEPTH`` levels), for impact analysis, and
    how many draft products were left out (a draft is nobody's production dependency, and its
    name is its domain's business until it is published)."""
    graph = Graph(root=product_key(product.product_id))
    graph.add(_product_node(product, 0))
    frontier = {product.pk: product}
    drafts = 0
    for level in range(1, MAX_DEPTH + 1):
        following: dict[int, DataProduct] = {}
        rows = Consumer.objects.filter(product_id__in=list(frontier)).select_related(
            "downstream__domain"
        )
        for consumer in rows.order_by("product_id", "kind", "name"):
            source = product_key(frontier[consumer.product_id].product_id)
            downstream = consumer.downstream
            if consumer.kind == PRODUCT and downstream is not None:
                if downstream.status == ProductStatus.DRAFT:
                    drafts += 1
                    continue
                if graph.add(_product_node(downstream, level)):
                    following[downstream.pk] = downstream
                graph.link(source, product_key(downstream.product_id))
            elif consumer.kind != PRODUCT:
                node = _consumer_node(consumer, level)
                graph.add(node)
                graph.link(source, node.key)
        if not following:
            break
        frontier = following
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
