"""Contract documents as text: strict YAML or JSON in, canonical YAML or JSON out."""

from __future__ import annotations

import json
from typing import Any

import yaml

from .limits import MAX_DOCUMENT_BYTES
from .model import Contract, ContractError, ContractIssue


class _Loader(yaml.SafeLoader):
    """Safe YAML, strict: no aliases (no billion laughs), no duplicate keys, dates stay text."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; SafeLoader reports it properly below
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


# Timestamps stay strings, so every entry point (YAML, JSON, API) goes through the same
# datetime parsing and the same error messages.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_document(text: str | bytes, *, filename: str | None = None) -> object:
    """YAML or JSON text → plain Python object. Syntax errors raise ``ContractError``.

    JSON is chosen by a ``.json`` filename; otherwise the text is read as YAML (a superset of
    JSON for any document we produce).
    """
    where = filename or "<document>"
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError([ContractIssue(where, f"not UTF-8 text: {exc.reason}")]) from None
    if not isinstance(text, str):
        raise ContractError([ContractIssue(where, "must be text")])
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ContractError(
            [ContractIssue(where, f"document too large (over {MAX_DOCUMENT_BYTES} characters)")]
        )
    if filename is not None and filename.lower().endswith(".json"):
        return _load_json(text, where)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # One line: PyYAML's texts may span several ("...not allowed\n  in ...").
        problem = " ".join((exc.problem or exc.context or "syntax error").split())
        location = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ContractError([ContractIssue(where, f"invalid YAML: {location}{problem}")]) from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise ContractError([ContractIssue(where, f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise ContractError([ContractIssue(where, "invalid YAML: nested too deeply")]) from None


def _load_json(text: str, where: str) -> object:
    def no_constant(name: str) -> object:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise ContractError(
            [
                ContractIssue(
                    where, f"invalid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
                )
            ]
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ContractError([ContractIssue(where, f"invalid JSON: {exc}")]) from None


def dump_json(contract: Contract) -> str:
    """The canonical document as indented JSON."""
    return json.dumps(contract.to_dict(), indent=2, ensure_ascii=False) + "\n"


def dump_yaml(contract: Contract) -> str:
    """The canonical document as block-style YAML, keys in the seed's order."""
    return yaml.safe_dump(
        contract.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
