"""What happens after a contract version is committed.

Kept apart from ``services`` so the quality and governance code can plug in without
``services`` importing them: each hook takes the new ContractVersion's id.
"""

from __future__ import annotations

from collections.abc import Callable

AFTER_PUBLISH: list[Callable[[int], None]] = []


def after_publish(version_id: int) -> None:
    """Run every registered after-publish hook (notify consumers, schedule checks...)."""
    for hook in AFTER_PUBLISH:
        hook(version_id)
