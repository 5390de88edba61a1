"""The embedded broker writes messages atomically, so a worker never reads a half-written one."""

from __future__ import annotations

from pathlib import Path

import pytest
from kombu import Connection
from kombu.transport.virtual.base import Empty


@pytest.fixture
def channel(tmp_path: Path):
    folder = tmp_path / "q"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    with Connection(
        "filesystem://", transport="config.broker:Transport", transport_options=options
    ) as conn:
        yield conn.default_channel, folder


def test_a_message_round_trips_and_leaves_no_temporary_file(channel) -> None:
    chan, folder = channel
    chan._put("celery", {"body": "x" * 10_000})
    names = [p.name for p in folder.iterdir()]
    assert len(names) == 1 and names[0].endswith(".celery.msg")
    assert chan._get("celery") == {"body": "x" * 10_000}


def test_the_final_name_appears_only_once_the_message_is_complete(channel, monkeypatch) -> None:
    import os

    import config.broker

    chan, folder = channel
    seen: list[tuple[bool, int]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((Path(dst).exists(), Path(src).stat().st_size))
        real_replace(src, dst)

    monkeypatch.setattr(config.broker.os, "replace", spy)
    chan._put("celery", {"body": "y" * 5_000})
    assert len(seen) == 1
    final_existed_before, size_at_rename = seen[0]
    assert not final_existed_before and size_at_rename > 5_000


def test_a_message_still_being_written_is_invisible_to_the_consumer(channel) -> None:
    chan, folder = channel
    (folder / "1_abc.celery.msg.tmp").write_bytes(b"")  # what a writer mid-write leaves
    with pytest.raises(Empty):
        chan._get("celery")
    assert (folder / "1_abc.celery.msg.tmp").exists()
