"""Load and soak bench: a realistic mix against `facteur serve --workers 2` on PostgreSQL + Redis,
with 1,000 live streams open the whole time.

    .venv/bin/python bench/load/run.py --database-url postgresql://postgres@127.0.0.1:5432/loadbench \\
        --redis-url redis://127.0.0.1:6379/4 [--warmup 60] [--duration 600] [--streams 1000] [--output FILE]

What it does, in order (every step bounded: fixed users, fixed duration, a timeout on
every request and every wait):

1. Raises the soft RLIMIT_NOFILE (inherited by the server and the stream holders).
2. Seeds the database (bench/load/seed.py): its schema is **erased** (the name must end
   in `bench` or `_test`), the migrations applied, `facteur demo`'s data loaded, 5,000
   copies of a waiting invoice, the bench's people and API keys.
3. Starts `facteur serve --workers 2` on a free port of 127.0.0.1 with that database and
   that Redis database (the live events go through Redis Pub/Sub between the workers).
4. Logs in every person, opens the live streams (`GET /events`, bench/load/streams.py,
   in `--stream-procs` subprocesses): half the watchers belong to the supplier, half to
   the Commune de Villebourg, so every event of the mix goes to every stream.
5. Runs the mix (bench/load/mix.py) for warm-up + duration: suppliers on the site
   (synthèse, lists, invoice pages, deposits page, the fragments htmx refreshes), agents
   (received list, invoice pages, taking in charge through the form with CSRF), ERPs
   (API GETs with a key each, SERVICE_FAIT through the API, deposits through the API and
   through the site). Samples every `--sample` s the server's memory (RSS of the
   supervisor and of each worker, from /proc), its CPU time, open descriptors per worker
   and the machine's load average.
6. Stops the mix, waits for the last events, collects the streams' reports, stops the
   server, and prints a Markdown report (also written to `--output`): per kind of request
   the count, the throughput, p50/p95/p99/max and the errors by status or exception,
   requests that started during the warm-up excluded; the live events delivered to the
   streams and their delivery latency; the drops; the memory series after the warm-up and
   its slope; the server log's 5xx and tracebacks.

Runs on the machine it measures: the load generator and the 1,000 stream holders share
its cores with the server (the report gives `nproc` and the load average).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, deque
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import mix  # noqa: E402  (bench/load/mix.py)

SECRET_KEY = "banc-de-charge-" + "x" * 40


# --- the machine, the server, its processes ----------------------------------------------------

def raise_fd_limit(streams: int) -> int:
    """Server and holders each need a descriptor per stream (plus the mix, the pools, a margin)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = streams + 1024
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {needed} needed for {streams} streams (ulimit -Hn).")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(args, data_dir: str, port: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTEUR_")}
    env |= {"FACTEUR_DATABASE_URL": args.database_url, "FACTEUR_REDIS_URL": args.redis_url, "FACTEUR_DATA_DIR": data_dir,
            "FACTEUR_SECRET_KEY": SECRET_KEY}
    if port:
        env["FACTEUR_BASE_URL"] = f"http://127.0.0.1:{port}"
    return env


def start_server(args, data_dir: str, port: int) -> subprocess.Popen:
    log = open(Path(data_dir) / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)],
        env=server_env(args, data_dir, port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200 and len(worker_pids(server.pid)) == args.workers:
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise RuntimeError(f"the server did not start; see {data_dir}/server.log")


def stop_server(server: subprocess.Popen) -> None:
    workers = worker_pids(server.pid)
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    for pid in set(workers) - {server.pid}:  # a worker the supervisor left behind
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def worker_pids(parent: int) -> list[int]:
    """The processes serving the app: the supervisor's children (not multiprocessing's helpers),
    or the server itself with one worker (uvicorn then serves in-process)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) != parent:
                continue
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if b"resource_tracker" not in cmdline:
            pids.append(int(entry.name))
    return sorted(pids) or [parent]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def machine() -> str:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    mem_kib = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")))
    return (f"`nproc` {os.cpu_count()}, {cpu}, {mem_kib / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.platform()}")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout
    return head + (" (modified)" if dirty.strip() else "")


# --- seeding and logins -------------------------------------------------------------------------

def deposit_files(count: int) -> deque:
    """Factur-X EN 16931 PDFs for the Commune de Villebourg, each with its own number (bench/deposit's recipe)."""
    spec = importlib.util.spec_from_file_location("deposit_bench", ROOT / "bench" / "deposit" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return deque(module.make_invoices(count))


async def log_in_all(base: str, emails: list[str], password: str, concurrency: int = 8) -> dict:
    import httpx

    clients: dict[str, httpx.AsyncClient] = {}
    queue = list(emails)

    async def worker() -> None:
        while queue:
            email = queue.pop()
            clients[email] = await mix.log_in(base, email, password)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return clients


def open_streams(port: int, cookies: list[str], procs: int, ramp: float) -> list[subprocess.Popen]:
    holders = []
    share = -(-len(cookies) // procs)
    for k in range(procs):
        part = cookies[k * share:(k + 1) * share]
        if part:
            holders.append(subprocess.Popen(
                [sys.executable, str(HERE / "streams.py"), str(port), str(ramp)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, env={**os.environ, "LOAD_COOKIES": json.dumps(part)}))
    for holder in holders:
        line = holder.stdout.readline().strip()
        if line != "READY":
            raise RuntimeError(f"a stream holder did not get ready: {line!r}")
    return holders


def close_streams(holders: list[subprocess.Popen], first: int, last: int) -> dict:
    merged = {"streams": 0, "drops": Counter(), "duplicates": 0, "received": [], "receipts": {}}
    for holder in holders:
        out, _ = holder.communicate(f"{first} {last}\n", timeout=180)
        report = json.loads(out.strip().splitlines()[-1])
        merged["streams"] += report["streams"]
        merged["drops"].update(report["drops"])
        merged["duplicates"] += report["duplicates"]
        merged["received"] += report["received"]
        for event_id, (count, total, latest) in report["receipts"].items():
            entry = merged["receipts"].setdefault(int(event_id), [0, 0.0, 0.0])
            entry[0] += count
            entry[1] += total
            entry[2] = max(entry[2], latest)
    return merged


async def relevant_events(seeded, after: int = 0) -> list[dict]:
    """The events of the supplier or of Villebourg: those every stream of the bench should get."""
    from backend.tracking.tables import Event

    return await Event.select(Event.id, Event.created_at).where(
        (Event.id > after) & ((Event.supplier == seeded.supplier_id) | (Event.recipient == seeded.recipient_id))
    ).order_by(Event.id)


async def latest_event_id() -> int:
    from backend.tracking.tables import Event

    rows = await Event.select(Event.id).order_by(Event.id, ascending=False).limit(1)
    return rows[0]["id"] if rows else 0


# --- the run --------------------------------------------------------------------------------------

async def sample_server(server_pid: int, samples: list[dict], every: float, t0: float) -> None:
    while True:
        workers = worker_pids(server_pid)
        try:
            samples.append({
                "t": time.monotonic() - t0, "supervisor_kib": rss_kib(server_pid),
                "workers": {pid: {"rss_kib": rss_kib(pid), "cpu_s": cpu_seconds(pid), "fds": open_fds(pid)} for pid in workers},
                "load": os.getloadavg()[0],
            })
        except OSError:  # a worker died between the listing and the read: the next sample shows it
            pass
        await asyncio.sleep(every)


def start_users(args, clients: dict, seeded, shared, rec) -> list[asyncio.Task]:
    tasks = []
    spawn = lambda coroutine: tasks.append(asyncio.create_task(coroutine))  # noqa: E731
    for email in seeded.supplier_emails[:args.supplier_users]:
        spawn(mix.supplier_web(clients[email], rec, shared, args.think))
    for email in seeded.agent_emails[:args.agent_users]:
        spawn(mix.agent_web(clients[email], rec, shared, args.think))
    api = lambda: mix.httpx.AsyncClient(base_url=args.base, timeout=mix.TIMEOUT)  # noqa: E731
    for i in range(args.api_readers):
        spawn(mix.api_reader(api(), rec, shared, args.think, seeded.supplier_keys[i], seeded.agent_keys[i]))
    for i in range(args.api_processors):
        spawn(mix.api_processor(api(), rec, shared, args.status_think, seeded.agent_keys[args.api_readers + i]))
    for i in range(args.deposit_users):
        if i % 2 == 0:
            spawn(mix.api_depositor(api(), rec, shared, args.deposit_think, seeded.supplier_keys[args.api_readers + i]))
        else:
            spawn(mix.web_depositor(clients[seeded.supplier_emails[args.supplier_users + i]], rec, shared, args.deposit_think))
    return tasks


async def run(args) -> str:
    limit = raise_fd_limit(args.streams)
    data_dir = tempfile.mkdtemp(prefix="loadbench-")
    os.environ.update(server_env(args, data_dir))
    from seed import PASSWORD, seed  # imports backend: after FACTEUR_* are set

    started_at = datetime.now(timezone.utc)
    uptime_before = uptime()
    t = time.monotonic()
    seeded = await seed(clones=args.clones, watchers=args.streams, supplier_users=args.supplier_users + args.deposit_users,
                        agent_users=args.agent_users, supplier_keys=args.api_readers + args.deposit_users,
                        agent_keys=args.api_readers + args.api_processors)
    files = deposit_files(args.deposit_files)
    print(f"seeded in {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
    port = free_port()
    args.base = f"http://127.0.0.1:{port}"
    server = start_server(args, data_dir, port)
    holders: list[subprocess.Popen] = []
    try:
        people = seeded.supplier_emails + seeded.agent_emails
        clients = await log_in_all(args.base, seeded.watcher_emails + people, PASSWORD)
        watcher_cookies = [mix.cookie_header(clients.pop(e)) for e in seeded.watcher_emails]
        t = time.monotonic()
        holders = open_streams(port, watcher_cookies, args.stream_procs, args.ramp_ms / 1000)
        streams_open_s = time.monotonic() - t
        print(f"{len(watcher_cookies)} streams open in {streams_open_s:.0f} s", file=sys.stderr, flush=True)
        first_event = await latest_event_id()
        pids_at_start = worker_pids(server.pid)

        t0 = time.monotonic()
        rec = mix.Recorder(warmup_end=t0 + args.warmup)
        shared = mix.Shared(seeded=seeded, deposit_files=files, waiting=deque(seeded.waiting_ids))
        samples: list[dict] = []
        sampler = asyncio.create_task(sample_server(server.pid, samples, args.sample, t0))
        users = start_users(args, clients, seeded, shared, rec)
        await asyncio.sleep(args.warmup + args.duration)
        measured_s = time.monotonic() - rec.warmup_end
        for task in users:
            task.cancel()
        results = await asyncio.gather(*users, return_exceptions=True)
        crashed = [repr(r) for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
        await asyncio.sleep(args.grace)  # the last events reach the streams (and the catch-up reads the table)
        sampler.cancel()
        pids_at_end = worker_pids(server.pid)
        last_event = await latest_event_id()
        streams = close_streams(holders, first_event, last_event)
        events = await relevant_events(seeded, first_event)
        events = [e for e in events if e["id"] <= last_event]
    finally:
        for holder in holders:
            if holder.poll() is None:
                holder.kill()
        stop_server(server)
        uptime_after = uptime()
    log_text = (Path(data_dir) / "server.log").read_text(errors="replace")
    return report(args, started_at, limit, uptime_before, uptime_after, rec, measured_s, shared, crashed, samples,
                  pids_at_start, pids_at_end, streams, events, streams_open_s, log_text, data_dir)


# --- the report -----------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))]


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per minute."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def requests_table(rec, measured_s: float) -> list[str]:
    lines = ["| kind | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    every: list[float] = []
    error_total = 0
    for kind in sorted(rec.latencies):
        values = rec.latencies[kind]
        every += values
        errors = rec.errors.get(kind, Counter())
        error_total += sum(errors.values())
        shown = ", ".join(f"{k} × {v}" for k, v in errors.most_common()) or "0"
        lines.append(f"| {kind} | {len(values)} | {len(values) / measured_s:.2f} | {pct(values, 50) * 1000:.0f} | "
                     f"{pct(values, 95) * 1000:.0f} | {pct(values, 99) * 1000:.0f} | {max(values) * 1000:.0f} | {shown} |")
    if every:
        lines.append(f"| **all** | **{len(every)}** | **{len(every) / measured_s:.2f}** | **{pct(every, 50) * 1000:.0f}** | "
                     f"**{pct(every, 95) * 1000:.0f}** | **{pct(every, 99) * 1000:.0f}** | **{max(every) * 1000:.0f}** | "
                     f"**{error_total}** |")
    return lines


def memory_section(args, samples: list[dict]) -> list[str]:
    soak = [s for s in samples if s["t"] >= args.warmup]
    if not soak:
        return ["(no sample after the warm-up)"]
    series = [(s["t"], sum(w["rss_kib"] for w in s["workers"].values()) / 1024) for s in soak]
    per_worker = [", ".join(f"{w['rss_kib'] / 1024:.0f}" for w in s["workers"].values()) for s in soak]
    fds = [", ".join(str(w["fds"]) for w in s["workers"].values()) for s in soak]
    first_min = [v for t, v in series if t < args.warmup + 60]
    last_min = [v for t, v in series if t >= series[-1][0] - 60]
    cpu = [sum(w["cpu_s"] for w in s["workers"].values()) for s in soak]
    span = soak[-1]["t"] - soak[0]["t"]
    lines = [
        f"Workers' RSS (sum) after the warm-up, every {args.sample:.0f} s ({len(series)} samples): "
        f"first minute mean {statistics.fmean(first_min):.1f} MiB, last minute mean {statistics.fmean(last_min):.1f} MiB, "
        f"min {min(v for _, v in series):.1f}, max {max(v for _, v in series):.1f}, "
        f"least-squares slope {slope_per_minute(series):+.2f} MiB/min. Supervisor RSS {soak[-1]['supervisor_kib'] / 1024:.1f} MiB.",
        f"Server CPU (both workers) during the soak: {(cpu[-1] - cpu[0]) / span * 100 if span else 0:.0f} % of one core.",
        "",
        "| t (s) | workers RSS sum (MiB) | per worker (MiB) | open fds per worker | load avg 1 min |",
        "|---:|---:|---|---|---:|",
    ]
    lines += [f"| {s['t']:.0f} | {v:.1f} | {pw} | {fd} | {s['load']:.2f} |" for s, (_, v), pw, fd in zip(soak, series, per_worker, fds)]
    return lines


def streams_section(streams: dict, events: list[dict]) -> list[str]:
    expected = len(events)
    received = streams["received"]
    complete = sum(1 for r in received if r >= expected)
    created = {e["id"]: e["created_at"].timestamp() for e in events}
    mean_latency = [(total / count - created[i]) * 1000 for i, (count, total, _) in streams["receipts"].items() if i in created]
    last_latency = [(latest - created[i]) * 1000 for i, (_, _, latest) in streams["receipts"].items() if i in created]
    drops = ", ".join(f"{k} × {v}" for k, v in streams["drops"].most_common()) or "none"
    lines = [
        f"- Streams: {streams['streams']}; drops (stream ended or broke, then reconnected with Last-Event-ID): {drops}.",
        f"- Events of the run (status changes, deposits): {expected}; each stream should get all of them: "
        f"{complete}/{len(received)} streams got every one; deliveries {sum(received)}/{expected * len(received)}; "
        f"duplicates {streams['duplicates']}.",
    ]
    if mean_latency:
        lines.append(f"- Commit → stream latency (event row's created_at → receipt), over events: mean over the streams "
                     f"p50 {pct(mean_latency, 50):.0f} / p95 {pct(mean_latency, 95):.0f} / p99 {pct(mean_latency, 99):.0f} ms; "
                     f"last stream to get it p50 {pct(last_latency, 50):.0f} / p95 {pct(last_latency, 95):.0f} / "
                     f"max {max(last_latency):.0f} ms.")
    return lines


def log_section(log_text: str) -> list[str]:
    statuses = Counter(re.findall(r'HTTP/1\.1" (\d{3})', log_text))
    server_errors = sum(v for k, v in statuses.items() if k.startswith("5"))
    tracebacks = log_text.count("Traceback")
    problems = [l for l in log_text.splitlines() if re.search(r"\b(ERROR|WARNING|CRITICAL)\b", l)]
    lines = [f"- Server log: {sum(statuses.values())} access lines, statuses {dict(sorted(statuses.items()))}; "
             f"5xx {server_errors}; tracebacks {tracebacks}; ERROR/WARNING lines {len(problems)}."]
    for line in list(dict.fromkeys(problems))[:5]:
        lines.append(f"  - `{line[:200]}`")
    return lines


def report(args, started_at, limit, uptime_before, uptime_after, rec, measured_s, shared, crashed, samples,
           pids_at_start, pids_at_end, streams, events, streams_open_s, log_text, data_dir) -> str:
    users = (f"{args.supplier_users} suppliers and {args.agent_users} agents on the site (think {args.think:g} s), "
             f"{args.api_readers} API readers (think {args.think:g} s), {args.api_processors} API processors "
             f"(think {args.status_think:g} s), {args.deposit_users} depositors (API and site alternately, think {args.deposit_think:g} s)")
    lines = [
        f"### Load and soak: {args.warmup:.0f} s warm-up + {args.duration:.0f} s measured, {args.streams} live streams",
        "",
        f"Date {started_at:%Y-%m-%d %H:%M} UTC, commit {commit()}. Machine: {machine()}. RLIMIT_NOFILE (soft) {limit}.",
        f"`uptime` before: `{uptime_before}`; after: `{uptime_after}`.",
        f"Server: `facteur serve --workers {args.workers}` on PostgreSQL ({args.database_url.rsplit('/', 1)[-1]}) and Redis "
        f"({args.redis_url}); worker pids at start {pids_at_start}, at end {pids_at_end}"
        f"{' (a worker was replaced)' if pids_at_start != pids_at_end else ''}.",
        f"Mix: {users}. Requests started during the warm-up ({rec.warmup_requests}) are not counted. Measured window {measured_s:.0f} s.",
        "",
    ]
    lines += requests_table(rec, measured_s)
    lines += ["", f"Nothing left to do (a user found no invoice to process / no file to deposit): {dict(shared.exhausted) or 'never'}."
              f" Invoices still waiting {len(shared.waiting)}, deposit files left {len(shared.deposit_files)}."
              f"{' Users that crashed: ' + '; '.join(crashed) if crashed else ''}", ""]
    lines += [f"Live streams ({args.stream_procs} holder processes, opened in {streams_open_s:.0f} s):", ""]
    lines += streams_section(streams, events)
    lines += [""] + log_section(log_text) + ["", "Memory:", ""] + memory_section(args, samples)
    lines += ["", f"Server log and data: {data_dir}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run still stops its server
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="its schema is erased: the name must end in bench or _test")
    parser.add_argument("--redis-url", required=True, help="the Redis database of the live events, e.g. redis://127.0.0.1:6379/4")
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds measured after the warm-up")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between two memory samples")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds between the end of the mix and the streams' report")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--stream-procs", type=int, default=2)
    parser.add_argument("--ramp-ms", type=float, default=5.0, help="pause between two stream openings of one holder")
    parser.add_argument("--supplier-users", type=int, default=12)
    parser.add_argument("--agent-users", type=int, default=6)
    parser.add_argument("--api-readers", type=int, default=4)
    parser.add_argument("--api-processors", type=int, default=2)
    parser.add_argument("--deposit-users", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time of site users and API readers (s)")
    parser.add_argument("--status-think", type=float, default=2.0)
    parser.add_argument("--deposit-think", type=float, default=3.0)
    parser.add_argument("--clones", type=int, default=5000, help="copies of a waiting invoice (lists, status changes)")
    parser.add_argument("--deposit-files", type=int, default=1500)
    parser.add_argument("--output", help="also write the report to this file")
    args = parser.parse_args()
    name = args.database_url.rstrip("/").rsplit("/", 1)[-1]
    if not (name.endswith("bench") or name.endswith("_test")):
        sys.exit("Refus : le schéma de la base est effacé ; son nom doit finir par « bench » ou « _test ».")
    random.seed(13)
    text = asyncio.run(run(args))
    print(text)
    if args.output:
        Path(args.output).write_text(text)


if __name__ == "__main__":
    main()
