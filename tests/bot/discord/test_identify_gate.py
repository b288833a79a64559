"""The identify gate: shards of one bucket IDENTIFY `hold` seconds apart across processes.

Real processes (multiprocessing) and the real PostgreSQL; each records, in a table, when its
shard was let through (the database's clock) and which buckets were closed at that moment.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl

from bot.config import Settings
from bot.discord.client import ShardedCablebot
from bot.discord.shards import IDENTIFY_HOLD, LOCK_CLASS, IdentifyGate, ShardClaim, ShardsTaken
from bot.library.cables import CableLibrary
from tests.bot.discord import gate_worker
from tests.bot.fake_discord import fake_discord


async def _run_processes(
    url: str, shard_lists: list[list[int]], buckets: int, hold: float
) -> list[Any]:
    conn = await gate_worker.open_db(url)
    await conn.execute(
        "CREATE TABLE identified (shard int, bucket int, taken timestamptz, closed int[])"
    )
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(shard_lists))
    processes = [
        context.Process(target=gate_worker.run, args=(url, shards, buckets, hold, start))
        for shards in shard_lists
    ]
    for process in processes:
        process.start()
    for process in processes:
        await asyncio.to_thread(process.join, 120)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    rows: list[Any] = await conn.fetch("SELECT * FROM identified ORDER BY taken")
    await conn.close()
    return rows


def _gaps(rows: list[Any], bucket: int) -> list[timedelta]:
    times = [row["taken"] for row in rows if row["bucket"] == bucket]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_one_bucket_waits_across_processes_and_buckets_do_not_wait_for_each_other(
    postgres_url: str,
) -> None:
    hold = 1.0
    rows = await _run_processes(postgres_url, [[0, 2], [1, 3], [4, 5]], buckets=2, hold=hold)
    assert sorted(row["shard"] for row in rows) == [0, 1, 2, 3, 4, 5]
    for bucket in (0, 1):
        gaps = _gaps(rows, bucket)
        assert len(gaps) == 2 and min(gaps) >= timedelta(seconds=hold), gaps
    # Some shard was let through while the other bucket was closed: no bucket waits for another.
    assert any(set(row["closed"]) - {row["bucket"]} for row in rows), rows


@pytest.mark.slow
async def test_the_real_hold_with_one_bucket(postgres_url: str) -> None:
    rows = await _run_processes(postgres_url, [[0], [1], [2]], buckets=1, hold=IDENTIFY_HOLD)
    gaps = _gaps(rows, 0)
    assert len(gaps) == 2 and min(gaps) >= timedelta(seconds=IDENTIFY_HOLD), gaps


async def test_the_sharded_bot_identifies_through_the_gate(postgres_url: str) -> None:
    settings = Settings(_env_file=None, shard_count=4, shard_ids=(2, 3))
    gate = IdentifyGate(postgres_url, hold=60.0)
    bot = ShardedCablebot(None, settings, identify_gate=gate)  # type: ignore[arg-type]
    assert (bot.shard_count, bot.shard_ids) == (4, [2, 3])
    bot.max_concurrency = 2  # what Discord's /gateway/bot says; asked at the first IDENTIFY
    conn = await gate_worker.open_db(postgres_url)
    try:
        await bot.before_identify_hook(3, initial=True)
        assert [row[0] for row in await conn.fetch(gate_worker.HELD, LOCK_CLASS)] == [1]
        await gate.close()  # the process stops: its buckets open at once
        assert await conn.fetch(gate_worker.HELD, LOCK_CLASS) == []
    finally:
        await conn.close()


async def test_a_sharded_bot_starts_every_shard_through_the_gate(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, mirrors=(), shard_count=2)
    gate = IdentifyGate(postgres_url, hold=0.2)
    taken: list[int] = []
    real_wait = gate.wait

    async def wait(shard_id: int, max_concurrency: int) -> datetime:
        taken.append(shard_id)
        return await real_wait(shard_id, max_concurrency)

    monkeypatch.setattr(gate, "wait", wait)
    with fake_discord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", fake.url + "/api/v10")
        gateway = yarl.URL(fake.url.replace("http", "ws") + "/gateway")
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", gateway)
        async with await CableLibrary.open(settings) as library:
            bot = ShardedCablebot(library, settings, identify_gate=gate, sync_commands=False)
            bot.max_concurrency = 1
            ready = asyncio.Event()

            async def on_ready() -> None:
                ready.set()

            bot.add_listener(on_ready, "on_ready")
            async with bot:
                running = asyncio.create_task(bot.start("a.b.c"))
                await asyncio.wait_for(ready.wait(), 60)
                await bot.close()
                await running
        await gate.close()
    assert taken == [0, 1]
    assert len(fake.identifies) == 2


@pytest.mark.slow
def test_run_with_postgresql_serves_a_slice_of_the_shards_and_stops_on_sigterm(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CABLEBOT_")}
    env |= {
        "CABLEBOT_DATA_DIR": str(tmp_path),
        "CABLEBOT_MIRRORS": "",
        "CABLEBOT_DATABASE_URL": postgres_url,
        "DISCORD_TOKEN": "a.b.c",
    }
    stderr = tmp_path / "stderr.txt"
    with fake_discord() as fake, stderr.open("w") as sink:
        argv = fake.command("run", "--shard-count", "4", "--shards", "1,3")
        bot = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=sink, stdout=subprocess.DEVNULL)
        try:
            for _ in range(600):  # the second shard waits for the first one's bucket: 5 s
                if "ready: serving Discord" in stderr.read_text() or bot.poll() is not None:
                    break
                time.sleep(0.1)
            assert "ready: serving Discord" in stderr.read_text()
            second = fake.command("run", "--shard-count", "4", "--shards", "0-1")
            done = subprocess.run(second, env=env, cwd=tmp_path, capture_output=True, text=True)
            assert (done.returncode, done.stderr.splitlines()[-1]) == (
                1,
                "cablebot: error: shard 1 is already run by another process on this database:"
                " give each process its own CABLEBOT_SHARD_IDS",
            )
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(30) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait(30)
    assert len(fake.identifies) == 2
    text = stderr.read_text()
    assert "shard 1 may identify (bucket 0)" in text and "shard 3 may identify (bucket 0)" in text
    assert "Traceback" not in text


async def test_a_shard_is_claimed_by_one_process_at_a_time(postgres_url: str) -> None:
    first = await ShardClaim.take(postgres_url, (0, 1, 2, 3))
    other = await ShardClaim.take(postgres_url, (4, 5))
    with pytest.raises(ShardsTaken, match=r"^shards 2-3,5 are already run by another process"):
        await ShardClaim.take(postgres_url, (2, 3, 5, 6))
    await first.release()
    again = await ShardClaim.take(
        postgres_url, (2, 3, 6)
    )  # a refused claim kept none of its shards
    await again.release()
    await other.release()
