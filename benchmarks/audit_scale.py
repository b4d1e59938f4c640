"""How fast `caching audit` reads invocation logs, and how much memory it holds, at 10k, 100k (and 1M) records.

Run:  .venv/bin/python benchmarks/audit_scale.py            (10k and 100k records)
      .venv/bin/python benchmarks/audit_scale.py --full     (and 1M)
      .venv/bin/python benchmarks/audit_scale.py --records 1000000 --records 10000000 --jobs 2

Target (issue 23): 1M records in under 60 s on 2 cores with under 1 GB of memory. It also prints what decoding
the JSON alone costs a record, the floor under any audit written in Python. The logs are generated first (gzipped
JSON lines, as S3 delivery writes them: 25-turn conversations of 200 users in four accounts, a 2,500-token system
prompt), then audited by a fresh process, alone and with --jobs 2 (a local Dask cluster of two workers, the calls
partitioned by account and model); peak memory is that of each run's largest process, read from the kernel.

With --one-agent: such calls all of one account and model (each conversation of its own), in a folder of files of
an hour as AWS delivers them, which the cluster spreads in time windows (caching/audit/file_windows.py). With --profile N: where one process
spends its time on N records, stage by stage, and what a month of 100M records would take. With --hostile: the
time and memory of two pathological logs.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MODEL = "global.anthropic.claude-sonnet-4-6"
SYSTEM = "You are the support agent of ExampleCorp. Answer from the policy. " * 10  # its logged size is what counts


def generate(path: Path, records: int, one_agent: bool = False) -> None:
    """Conversations that grow turn by turn, each call reading what the previous wrote, one in ten timing out: in
    one file; or, for `one_agent`, all of one account, in a folder of files of an hour as AWS delivers them."""
    if not one_agent:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
            for _, line in lines(records, one_agent):
                out.write(line)
        return
    for hour, group in itertools.groupby(lines(records, one_agent), key=lambda pair: int(pair[0] // 3_600)):
        folder = path / "AWSLogs/111122223300/BedrockModelInvocationLogs/us-east-1"
        folder = folder / time.strftime("%Y/%m/%d/%H", time.gmtime(hour * 3_600))
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(folder / f"logs-{hour}.json.gz", "wt", encoding="utf-8", compresslevel=1) as out:
            for _, line in group:
                out.write(line)


def lines(records: int, one_agent: bool) -> Iterator[tuple[float, str]]:
    """Each record's time (seconds since the epoch) and line."""
    for n in range(records):
        user, turn = n % 200, n // 200
        account = "111122223300" if one_agent else f"1111222233{user % 4:02d}"  # four: the work can spread
        messages = []
        # One agent's users each start a conversation of their own every 25 turns. (In the four accounts', a user's
        # conversations are all alike, so their entries live on from one to the next: the figures above were taken
        # so. A window's warm-up cannot rebuild the TTL an entry was first written with hours before.)
        topic = f" in conversation {turn // 25}" if one_agent else ""
        for t in range(turn % 25 + 1):
            messages.append({"role": "user", "content": [{"text": f"Question {t} from user {user}{topic}"}]})
            if t < turn % 25:
                messages.append({"role": "assistant", "content": [{"text": f"Answer {t}"}]})
        messages[-1]["content"].append({"cachePoint": {"type": "default"}})
        request = {"system": [{"text": SYSTEM}, {"cachePoint": {"type": "default"}}], "messages": messages}
        history = 40 * (turn % 25)
        read = 0 if turn % 25 == 0 or turn % 10 == 9 else 2_500 + history - 40
        usage = {
            "inputTokens": 0,
            "outputTokens": 40,
            "cacheReadInputTokens": read,
            "cacheWriteInputTokens": 2_540 + history - read,
        }
        seconds = 1_795_996_800 + turn * 30 + user * 0.1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}Z"
        record = {
            "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": stamp, "accountId": account,
            "identity": {"arn": f"arn:aws:iam::{account}:role/app-{user % 5}"}, "region": "us-east-1",
            "requestId": f"req-{n}", "operation": "Converse", "modelId": MODEL,
            "input": {"inputBodyJson": request, "inputTokenCount": 0, "cacheReadInputTokenCount": read,
                      "cacheWriteInputTokenCount": usage["cacheWriteInputTokens"]},
            "output": {"outputBodyJson": {"usage": usage}, "outputTokenCount": 40},
        }  # fmt: skip
        yield seconds, json.dumps(record, separators=(",", ":")) + "\n"


def main(argv: list[str]) -> int:
    from caching.commands.flags import between
    from caching.lab.terminal import HelpFormatter

    flags = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    flags.add_argument("--full", action="store_true", help="also 1M records")
    flags.add_argument(
        "--records",
        type=between(1, 100_000_000),
        action="append",
        metavar="N",
        help="audit N records instead of the sizes above (repeat for several; 10,000,000 takes about 1 GB of disk)",
    )
    flags.add_argument(
        "--jobs",
        type=between(1, 64),
        action="append",
        metavar="N",
        help="run with N Dask workers only (repeat for several; default: one process, then 2 workers)",
    )
    flags.add_argument(
        "--profile",
        type=between(1, 10_000_000),
        metavar="N",
        help="instead: where one process spends its time on N records, and what a month of 100M would take",
    )
    flags.add_argument(
        "--keep",
        type=Path,
        metavar="FOLDER",
        help="keep the generated logs in FOLDER and reuse them on the next run (10M records take minutes to make)",
    )
    flags.add_argument(
        "--one-agent",
        action="store_true",
        help="one account and model, in files of an hour (as AWS delivers them), so the cluster spreads it in "
        "windows; each user's conversations differ",
    )
    flags.add_argument("--hostile", action="store_true", help="instead: two pathological logs, time and memory")
    args = flags.parse_args(argv)
    if args.profile:
        return profile(args.profile)
    if args.hostile:
        return hostile()
    sizes = args.records or ((10_000, 100_000, 1_000_000) if args.full else (10_000, 100_000))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{'records':>10} {'jobs':>5} {'wall s':>8} {'records/s':>10} {'peak MB':>8}")
    walls: dict[int, list[tuple[int, float]]] = {}  # jobs -> (records, wall s) of each size
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        floor = 0.0
        for size in sizes:
            path = folder / (f"one-agent-{size}" if args.one_agent else f"logs-{size}.json.gz")
            if not path.exists():
                part = path.with_name(path.name + ".part")
                shutil.rmtree(part, ignore_errors=True)
                generate(part, size, args.one_agent)
                part.rename(path)  # a run stopped while making it leaves no half log behind
            floor = floor or decoding_alone(path)
            for jobs in args.jobs or (1, 2):
                wall, peak = measured(str(path), *(("--jobs", str(jobs)) if jobs > 1 else ()))
                print(f"{size:>10,} {jobs:>5} {wall:>8.1f} {size / wall:>10,.0f} {peak:>8.0f}", flush=True)
                walls.setdefault(jobs, []).append((size, wall))
            if args.keep is None:  # a large log is not kept beside the next one
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    for jobs, runs in walls.items():
        for (smaller, before), (larger, after) in itertools.pairwise(runs):
            print(f"jobs {jobs}: {larger:,} records took {after / before:.1f}x the time of {smaller:,}")
    print(f"Decoding the JSON alone (json.loads, one core): {floor * 1e6:.0f} us a record;")
    print(f"at a million records, {floor * 1_000_000 / 2:.0f} s of the 60 s target on 2 cores.")
    return 0


# Runs one audit (`caching audit ARGS --json`) in a child and prints the peak memory of its largest process.
MEASURE = """
import resource, subprocess, sys
code = "import sys, caching.__main__ as m; sys.exit(m.main(['audit', *sys.argv[1:], '--json'], None))"
subprocess.run([sys.executable, "-c", code, *sys.argv[1:]], stdout=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def measured(*args: str) -> tuple[float, float]:
    """Wall seconds of one audit in a fresh process, and the peak resident MB of its largest process (one process,
    or a Dask worker of the local cluster), each run measured on its own."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, float(done.stdout.strip().splitlines()[-1])


def hostile() -> int:
    """Audit two pathological logs: tens of millions of damaged lines, and one line of 300 MB."""
    print(f"{'log':<44} {'wall s':>8} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        damaged = Path(folder) / "damaged.json.gz"
        with gzip.open(damaged, "wb", compresslevel=1) as out:
            block = b"{damaged\n" * 100_000
            for _ in range(200):  # 20 million lines
                out.write(block)
        long_line = Path(folder) / "long-line.json"
        with long_line.open("wb") as out:
            out.write(b'{"modelId":"' + b"x" * 300_000_000 + b'"}\n')
        for name, path in (("20 million damaged lines, gzipped", damaged), ("one line of 300 MB", long_line)):
            wall, peak = measured(str(path))
            print(f"{name:<44} {wall:>8.1f} {peak:>8.0f}")
    return 0


MONTH = 100_000_000  # records in a month of a busy agent's logs


# The audit's stages, each timed in place: a clock around every call of the function that does it, in one run of
# the whole audit. Timed apart, in loops of their own, they look a quarter cheaper than they are inside the audit,
# where they share the processor's caches with the rest; a profiler weighs stages of many small calls too heavily.
STAGES = {
    "linearizing (rules/memo.py)": ("caching.audit.audit", None, "prepare"),
    "the doctor (check/doctor.py)": ("caching.audit.audit", "Audit", "_diagnose"),
    "the what-if replays (replay.py)": ("caching.audit.replay", "Replays", "add"),
    "the oracle (oracle.py)": ("caching.audit.oracle", "Oracle", "add"),
}


def profile(records: int) -> int:
    """Time one process's stages on `records` generated records (reading in a pass of its own, the rest in place,
    see STAGES), and project a month from it."""
    from caching.audit.audit import audit
    from caching.audit.collector import fewer_collections
    from caching.audit.sources import read

    seconds = dict.fromkeys(STAGES, 0.0)

    def clocked(stage: str, work: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return work(*args, **kwargs)
            finally:
                seconds[stage] += time.perf_counter() - started

        return run

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logs.json.gz"
        generate(path, records)
        json_seconds = decoding_alone(path) * records
        with fewer_collections():  # as the audit runs: the collector paused
            started = time.perf_counter()
            items = list(read([str(path)]))
            reading = time.perf_counter() - started
    kept = []
    for stage, (module, owner, name) in STAGES.items():
        found = importlib.import_module(module)
        where = getattr(found, owner) if owner else found
        kept.append((where, name, getattr(where, name)))
        setattr(where, name, clocked(stage, getattr(where, name)))
    try:
        started = time.perf_counter()
        audit(items)
        auditing = time.perf_counter() - started
    finally:
        for where, name, work in kept:
            setattr(where, name, work)
    rows = {"decoding the JSON (json.loads)": json_seconds, "reading the records into calls": reading - json_seconds}
    rows |= seconds
    rows["the rest (totals, prices)"] = max(0.0, auditing - sum(seconds.values()))
    total = reading + auditing
    print(
        f"python {sys.version.split()[0]}; {records:,} records in one process: {total:.1f} s, {records / total:,.0f}/s"
    )
    print(f"{'stage':<36} {'s':>7} {'share':>6} {'us/record':>10}")
    for name, spent in rows.items():
        print(f"{name:<36} {spent:>7.2f} {spent / total:>6.0%} {spent / records * 1e6:>10,.0f}")
    core_hours = total / records * MONTH / 3_600
    print(f"A month of {MONTH:,} records at this rate: {core_hours:,.1f} core-hours;")
    print("wall time on N workers, if the accounts and models spread over them evenly:")
    print("  " + ", ".join(f"{n} workers {core_hours / n:,.1f} h" for n in (2, 8, 32)))
    return 0


def decoding_alone(path: Path) -> float:
    """Seconds per record that json.loads alone takes on these lines: the floor under any audit in Python."""
    if path.is_dir():  # one agent's files of an hour: the first of them
        path = min(path.rglob("*.json.gz"))
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        texts = [line for line, _ in zip(lines, range(10_000), strict=False)]  # enough to time, whatever the size
    started = time.perf_counter()
    for text in texts:
        json.loads(text)
    return (time.perf_counter() - started) / len(texts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
