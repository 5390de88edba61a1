"""Lineage as plain data (issue 16): nodes, edges, impact analysis and the graph's layout.

No Django import: the portal builds a ``Graph`` from its consumer rows (``catalog.lineage``),
and ``manage.py contract diff --impact`` builds the same ``Graph`` from the lineage API's JSON
(a running portal's answer, or that answer saved to a file), so both list the same impact.

A node is a data product (``product:<id>``) or another consumer (``consumer:<kind>:<name>``: a
dashboard, application, notebook or team; one node however many products it uses). An edge
goes from what is used to what uses it: ``product:a → product:b`` when b's contract names a
among its ``inputs``, ``product:a → consumer:dashboard:CEO`` when that dashboard is registered
on a. Impact analysis walks the edges downstream
from a product, transitively (every product built from it, every product built from those,
and every consumer of any of them), each reached once, along a shortest path.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PRODUCT = "product"


def product_key(product_id: str) -> str:
    """The node id of a product."""
    return f"product:{product_id}"


@dataclass(frozen=True)
class Node:
    """One node: a product (``product_id`` set) or a consumer of another kind."""

    key: str
    kind: str
    name: str
    product_id: str = ""
    domain: str = ""
    status: str = ""
    health: str = ""
    team: str = ""
    url: str = ""
    level: int = 0

    @property
    def is_product(self) -> bool:
        """Whether this node is a data product."""
        return self.kind == PRODUCT

    def to_dict(self) -> dict[str, Any]:
        """The API's shape (camelCase; empty fields left out)."""
        optional = {
            "productId": self.product_id,
            "domain": self.domain,
            "status": self.status,
            "health": self.health,
            "team": self.team,
            "url": self.url,
        }
        out: dict[str, Any] = {"id": self.key, "kind": self.kind, "name": self.name}
        out.update({key: value for key, value in optional.items() if value})
        out["level"] = self.level
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Node:
        """A node read back from the API's shape (unknown keys ignored)."""
        return cls(
            key=str(data["id"]),
            kind=str(data.get("kind", "")),
            name=str(data.get("name", "")),
            product_id=str(data.get("productId", "")),
            domain=str(data.get("domain", "")),
            status=str(data.get("status", "")),
            health=str(data.get("health", "")),
            team=str(data.get("team", "")),
            url=str(data.get("url", "")),
            level=int(data.get("level", 0)),
        )


@dataclass
class Graph:
    """Nodes by key and edges ``(from, to)``, from what is used to what uses it."""

    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _out: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        edges, self.edges = self.edges, []
        for source, target in edges:
            self.link(source, target)

    def add(self, node: Node) -> bool:
        """Add ``node`` unless a node with its key is there; whether it was added."""
        if node.key in self.nodes:
            return False
        self.nodes[node.key] = node
        return True

    def link(self, source: str, target: str) -> None:
        """Add the edge ``source → target`` once."""
        if (source, target) not in self._seen:
            self._seen.add((source, target))
            self.edges.append((source, target))
            self._out.setdefault(source, []).append(target)

    def downstream_of(self, key: str) -> list[str]:
        """Direct users of node ``key``, in edge order."""
        return list(self._out.get(key, ()))

    def to_dict(self) -> dict[str, Any]:
        """``{"root", "nodes", "edges"}`` in the API's shape."""
        return {
            "root": self.root,
            "nodes": [node.to_dict() for node in self.nodes.values()],
            "edges": [{"from": s, "to": t} for s, t in self.edges],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Graph:
        """The graph of a lineage API answer (or an exported lineage file).

        Raises ValueError naming what is missing when ``data`` is not such an answer.
        """
        if not isinstance(data, Mapping):
            raise ValueError("a lineage document is a JSON object")
        nodes, edges = data.get("nodes"), data.get("edges")
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise ValueError("a lineage document has 'nodes' and 'edges' lists")
        root = data.get("root")
        if not isinstance(root, str):
            product = data.get("product")
            if not isinstance(product, str):
                raise ValueError("a lineage document names its 'product'")
            root = product_key(product)
        graph = cls(root=root)
        try:
            for item in nodes:
                graph.add(Node.from_dict(item))
            for item in edges:
                graph.link(str(item["from"]), str(item["to"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"a lineage node or edge is malformed: {exc!r}") from None
        return graph


@dataclass(frozen=True)
class Affected:
    """One node a change reaches: how far downstream, and the products in between."""

    node: Node
    depth: int
    via: tuple[str, ...]  # product ids from the changed product to the one this node uses

    @property
    def uses(self) -> str:
        """The product this node uses directly."""
        return self.via[-1]

    def to_dict(self) -> dict[str, Any]:
        """The shape of an impact entry in API bodies and the CLI's JSON."""
        out: dict[str, Any] = {"kind": self.node.kind, "name": self.node.name}
        if self.node.is_product:
            out["id"] = self.node.product_id
            out["status"] = self.node.status
        else:
            if self.node.team:
                out["team"] = self.node.team
            if self.node.url:
                out["url"] = self.node.url
        out["uses"] = self.uses
        out["depth"] = self.depth
        out["via"] = list(self.via)
        return out

    def describe(self) -> str:
        """One line: ``Executive / CEO dashboard (dashboard) uses finance.revenue, built from
        finance.orders``."""
        what = self.node.product_id if self.node.is_product else self.node.name
        kind = "product" if self.node.is_product else self.node.kind
        line = f"{what} ({kind}) uses {self.uses}"
        if len(self.via) > 1:
            line += ", built from " + " ← ".join(reversed(self.via[:-1]))
        return line


@dataclass(frozen=True)
class Impact:
    """Everything downstream of a product: products built from it, transitively, and every
    consumer of it or of those products."""

    product_id: str
    products: tuple[Affected, ...]
    consumers: tuple[Affected, ...]

    @property
    def is_empty(self) -> bool:
        """Whether nothing depends on the product."""
        return not self.products and not self.consumers

    def summary(self) -> str:
        """``2 consumers and 1 downstream product`` (or ``nothing depends on it``)."""
        if self.is_empty:
            return "nothing depends on it"
        parts = []
        if self.consumers:
            parts.append(_plural(len(self.consumers), "consumer"))
        if self.products:
            parts.append(_plural(len(self.products), "downstream product"))
        return " and ".join(parts)

    def lines(self) -> list[str]:
        """One line per affected node, products first (nearest first), then consumers."""
        return [a.describe() for a in (*self.products, *self.consumers)]

    def to_dict(self) -> dict[str, Any]:
        """``{"product", "summary", "products": [...], "consumers": [...]}``."""
        return {
            "product": self.product_id,
            "summary": self.summary(),
            "products": [a.to_dict() for a in self.products],
            "consumers": [a.to_dict() for a in self.consumers],
        }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def impact_of(graph: Graph, product_id: str | None = None) -> Impact:
    """What a breaking change of ``product_id`` (default: the graph's root) reaches, downstream
    and transitively: breadth first, so each node is listed once at its shortest distance."""
    start = product_key(product_id) if product_id else graph.root
    root = graph.nodes.get(start)
    root_id = root.product_id if root is not None else start.removeprefix("product:")
    seen = {start}
    queue: deque[tuple[str, int, tuple[str, ...]]] = deque([(start, 0, (root_id,))])
    products: list[Affected] = []
    consumers: list[Affected] = []
    while queue:
        key, depth, via = queue.popleft()
        for target in graph.downstream_of(key):
            if target in seen or target not in graph.nodes:
                continue
            seen.add(target)
            node = graph.nodes[target]
            affected = Affected(node, depth + 1, via)
            if node.is_product:
                products.append(affected)
                queue.append((target, depth + 1, (*via, node.product_id)))
            else:
                consumers.append(affected)
    return Impact(root_id, tuple(products), tuple(consumers))


def find_cycle(
    start: str, inputs: Iterable[str], downstream: Mapping[str, Iterable[str]]
) -> list[str]:
    """A cycle that giving product ``start`` these ``inputs`` would close, as product ids from
    ``start`` back to it (``[a, b, a]``: a is built from b, b from a); [] when none.

    ``downstream`` maps a product id to the ids of the products built from it (the current
    product edges, without ``start``'s own inputs).
    """
    wanted = set(inputs)
    if start in wanted:
        return [start, start]
    # A path start → ... → x along "built from start" edges, with x among the inputs, closes
    # the loop x → start.
    parents: dict[str, str] = {}
    queue: deque[str] = deque([start])
    seen = {start}
    while queue:
        current = queue.popleft()
        for child in downstream.get(current, ()):
            if child in seen:
                continue
            seen.add(child)
            parents[child] = current
            if child in wanted:
                path = [child]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                # path: child ← ... ← start; read as "start is an input of ..., of child",
                # and child would become start's input: start, ..., child, start.
                return [*reversed(path), start]
            queue.append(child)
    return []
