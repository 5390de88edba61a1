"""kombu's filesystem transport with atomic writes, for the embedded (no server) broker.

kombu writes a message file in place: a consumer listing the folder can pick the file up while
it is still empty, fail to decode it and take the worker down (seen in CI). Here each message
is written to a temporary name the consumer ignores, then renamed into place in one step.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu's filesystem.Channel._put has this signature, which differs from its own base's.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write the message under a ``.tmp`` name, then rename it to ``….<queue>.msg``."""
        name = f"{int(round(filesystem.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".tmp"  # "<queue>.msg.tmp" never matches the consumer's "<queue>.msg"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
