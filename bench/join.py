"""Join benchmark: our client against the official LiveKit Python SDK and against livekit-client in
headless Chromium (the Visio web app's stack), side by side in one run on our embedded server.

Every candidate joins the same room, publishes a 1280x720 test pattern at 30 fps (VP8, simulcast
off) and a 440 Hz tone for ``--duration`` seconds, and receives the same thing from a fixed
"peer". Measured per candidate:

* join time: from the connect call to connected (the candidate's own clock);
* time to first remote video frame: from the connect call to the first decoded frame of the
  peer's video;
* CPU: utime + stime (``/proc/<pid>/stat``) of every process of the candidate's process tree,
  over a steady window that starts ``--warmup`` seconds after the peer saw the candidate's video
  published; in CPU-seconds per second (1.0 = one core busy);
* memory: PSS (``/proc/<pid>/smaps_rollup``) summed over the tree, sampled every second, mean
  over the window and peak over the run.

The candidates, each in its own process tree, one after the other (never at once):

* ``ours``: ``python -m visio_desktop join URL --headless --duration D`` (aiortc; its defaults
  are 1280x720 at 30 fps and the tone), receiving with the headless sinks, which read the
  pattern back from every 2nd frame;
* ``sdk``: this script with ``--role sdk``, the official ``livekit`` Python SDK through
  ``tests/support/sdk_client.SdkParticipant``; it reads the pattern from every 2nd frame too
  (converted to RGBA), so that both Python clients do the same work with what they receive;
* ``chromium``: this script with ``--role chromium``, which drives ``livekit-client`` in
  Debian's headless Chromium (``tests/support/browser.BrowserParticipant``): camera = the
  pattern drawn on a 1280x720 canvas at 30 fps, simulcast off (as for the others; the web app
  itself would publish simulcast), microphone = a WebAudio oscillator; the remote video plays in
  a <video> element. The figures compared are those of the Chromium process tree (browser,
  renderer, GPU and utility processes); the driver (this script's Python process, which also
  serves the harness page, and Playwright's node) is reported apart.

The peer is the official SDK in its own process (``--role peer``): it publishes the same
pattern and tone, subscribes to each candidate without pulling frames into Python, and reports
from its WebRTC stats what each candidate really sent (size, frame rate, bitrate), so that a
candidate that cut its resolution or frame rate to save CPU shows up. The room server runs in
its own process too (``python -m visio_desktop serve``).

At the end our candidate runs once more under ``py-spy`` (``py-spy record --nonblocking`` for
``--profile-s`` seconds, Python stacks of every thread; py-spy is not a project dependency:
``pip install py-spy``). py-spy's idle detection does not tell a thread blocked on a lock or on
the GIL from a busy one, so its sample counts are only used to share each thread's CPU, read
from ``/proc/<pid>/task/<tid>/stat`` over the same seconds, among the functions it was seen in
(stacks that end in a wait of threading, queue, selectors are dropped first). Without py-spy,
or when it may not attach (ptrace), ``cProfile`` runs inside the process instead (main thread
only). The comparison's CPU figures come from the earlier, unprofiled run.

Usage (from the repository root, in the project's virtual environment; Linux only)::

    python bench/join.py                     # 30 s per candidate, then a 10 s profile
    python bench/join.py --quick             # 10 s per candidate (a smoke run)
    python bench/join.py --skip-browser --out /tmp/join.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from _report import write_report  # bench/_report.py, beside this script

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
if str(ROOT) not in sys.path:  # run as a script: make visio_desktop and tests.support importable
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench.join")

WIDTH, HEIGHT, FPS = 1280, 720, 30
TONE_HZ = 440.0
ROOM = "bench-join"
PEER = "peer"
API_KEY = "bench"
CANDIDATES = ("ours", "sdk", "chromium")
DEFAULT_OUT = ROOT / "bench" / "results" / "join.json"
SAMPLE_S = 0.5  # process-tree CPU sampling period
MEMORY_EVERY = 2  # PSS every 2nd sample (each second)
CHECK_EVERY = 2  # receivers read the pattern from every 2nd frame (as the headless VideoSink)
PSNR_EVERY = 15  # ... and its PSNR from every 15th frame read (idem)
PEER_STATS_S = 1.0  # how often the peer reports its WebRTC stats
LEAVE_MARGIN_S = 1.5  # the window ends this long before the candidate starts leaving
START_LIMIT_S = 90.0  # a candidate must be done within duration + this
PAUSE_S = 3.0  # between candidates
PROFILE_RATE = 50  # py-spy samples a second
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
MEMORY_FIELDS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem", "Private_Clean",
                 "Private_Dirty")

TITLE = ("Visio Desktop join benchmark (ours vs the official Python SDK vs livekit-client in "
         "Chromium)")
MEASURED = (
    "join time and time to the first remote video frame (from the connect call); CPU "
    "(utime+stime of every process of the candidate's tree, CPU-seconds per second over a steady "
    "window) and memory (PSS summed over the tree) while publishing a 1280x720 30 fps test "
    "pattern + tone and receiving the same from a peer"
)
ANCHOR = (
    "the other two clients of this same run, against the same server and peer, one after the "
    "other: ratios are ours / theirs (below 1: ours uses less)"
)
AIM = "CPU no higher than either; memory (PSS) at most half of Chromium's"


# ---------------------------------------------------------------------------------------------
# /proc accounting (Linux)


@dataclass(frozen=True, slots=True)
class Stat:
    ppid: int
    start: int  # start time in clock ticks since boot: (pid, start) names one process
    cpu_s: float  # utime + stime
    comm: str


def read_stat(pid: int) -> Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone
        return None
    head, _, rest = text.rpartition(")")
    fields = rest.split()  # fields[0] is field 3 of proc(5), "state"
    return Stat(ppid=int(fields[1]), start=int(fields[19]),
                cpu_s=(int(fields[11]) + int(fields[12])) / TICK,
                comm=head[head.index("(") + 1:])


def scan_processes() -> dict[int, Stat]:
    table: dict[int, Stat] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = read_stat(int(name))
            if stat is not None:
                table[int(name)] = stat
    return table


def descendants(root: int, table: dict[int, Stat]) -> list[int]:
    """``root`` and every process below it (children, grandchildren...)."""
    children: dict[int, list[int]] = {}
    for pid, stat in table.items():
        children.setdefault(stat.ppid, []).append(pid)
    out: list[int] = []
    todo = [root] if root in table else []
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def read_memory(pid: int) -> dict[str, int] | None:
    """kB: the smaps_rollup fields of MEMORY_FIELDS and RssFile (from status)."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and key in MEMORY_FIELDS:
                out[key] = int(value.split()[0])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssFile:"):
                out["RssFile"] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return out or None


def system_cpu() -> tuple[float, float] | None:
    """Busy and total CPU seconds of the whole machine (all cores), from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    values = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    total = sum(values)
    return (total - values[3] - values[4]) / TICK, total / TICK


def describe_process(pid: int, comm: str) -> tuple[str, bool]:
    """(label, is Chromium): Chromium processes are labelled by their --type."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = ""
    if "chromium" not in Path(exe).name and not comm.startswith("chromium"):
        return comm, False
    try:
        # Chromium's children rewrite their command line as one string: split on spaces too
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") \
            .replace("\0", " ").split()
    except OSError:
        args = []
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
    if kind == "utility":
        sub = next((a.split("=", 1)[1] for a in args if a.startswith("--utility-sub-type=")), "")
        kind = f"utility:{sub.split('.')[0]}" if sub else kind
    return f"chromium {kind}", True


def children_cpu_s() -> float:
    """CPU seconds of this process's waited-for descendants (every level that was reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class ProcMeta:
    start: int
    label: str
    group: str  # "client" (ours, sdk), "browser" or "driver" (chromium)


@dataclass(slots=True)
class TreeSample:
    at: float  # time.monotonic()
    procs: dict[int, tuple[int, float]]  # pid -> (start, cpu_s), the candidate's tree
    memory: dict[int, dict[str, int]] | None  # pid -> kB fields, every MEMORY_EVERY-th sample
    others: dict[str, float]  # cpu_s of the server, the peer and this bench
    system: tuple[float, float] | None


class TreeSampler:
    """Samples the CPU time (and every second the memory) of a process tree."""

    def __init__(self, root: int, *, browser: bool, others: dict[str, int]) -> None:
        self.root = root
        self.browser = browser
        self.others = others
        self.samples: list[TreeSample] = []
        self.meta: dict[int, ProcMeta] = {}
        self.max_processes = 0
        self._task: asyncio.Task[None] | None = None

    def take(self, memory: bool) -> None:
        table = scan_processes()
        pids = descendants(self.root, table)
        self.max_processes = max(self.max_processes, len(pids))
        procs: dict[int, tuple[int, float]] = {}
        for pid in pids:
            stat = table[pid]
            meta = self.meta.get(pid)
            if meta is None or meta.start != stat.start:
                label, chromium = describe_process(pid, stat.comm)
                group = ("browser" if chromium else "driver") if self.browser else "client"
                self.meta[pid] = ProcMeta(stat.start, label, group)
            procs[pid] = (stat.start, stat.cpu_s)
        mem: dict[int, dict[str, int]] | None = None
        if memory:
            mem = {}
            for pid in pids:
                fields = read_memory(pid)
                if fields is not None:
                    mem[pid] = fields
        others = {name: stat.cpu_s for name, pid in self.others.items()
                  if (stat := table.get(pid)) is not None}
        self.samples.append(TreeSample(time.monotonic(), procs, mem, others, system_cpu()))

    async def _run(self) -> None:
        count = 0
        while True:
            try:
                self.take(count % MEMORY_EVERY == 0)
            except Exception:  # never let sampling kill the run; a missed sample is harmless
                log.exception("sampling the process tree")
            count += 1
            await asyncio.sleep(SAMPLE_S)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def alive(self) -> list[int]:
        """Processes of the tree seen while sampling that still run (same pid and start)."""
        out = []
        for pid, meta in self.meta.items():
            stat = read_stat(pid)
            if stat is not None and stat.start == meta.start:
                out.append(pid)
        return out

    async def kill_alive(self, grace_s: float) -> list[str]:
        """SIGKILL every process of the tree (ones this bench started) still running after
        ``grace_s`` (Chromium's zygotes and some utilities outlive the browser for a moment)."""
        for _ in range(round(grace_s / 0.1)):
            if not self.alive():
                break
            await asyncio.sleep(0.1)
        killed = []
        for pid in self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.append(f"{pid} {self.meta[pid].label}")
        return killed

    # -- analysis --------------------------------------------------------------------------------

    def sampled_cpu_s(self) -> dict[str, float]:
        """CPU seconds by group over the tree's whole life, as last sampled (a lower bound:
        what a process used after its last sample is missing)."""
        last: dict[tuple[int, int], float] = {}
        for sample in self.samples:
            for pid, (start, cpu) in sample.procs.items():
                last[(pid, start)] = cpu
        out: Counter[str] = Counter()
        for (pid, _start), cpu in last.items():
            out[self.meta[pid].group] += cpu
        return dict(out)

    def window(self, start: float, end: float, counted: tuple[str, ...]) -> dict[str, Any]:
        """CPU and memory between the first sample at or after ``start`` and the last one at
        or before ``end``; ``counted``: the groups that make the headline figures."""
        inside = [s for s in self.samples if start <= s.at <= end]
        if len(inside) < 2:
            return {"ok": False, "error": f"{len(inside)} samples in the window"}
        first, last = inside[0], inside[-1]
        span = last.at - first.at
        by_group: Counter[str] = Counter()
        by_label: Counter[str] = Counter()
        for pid, (start_ticks, cpu) in last.procs.items():
            before = first.procs.get(pid)
            used = cpu - before[1] if before is not None and before[0] == start_ticks else cpu
            meta = self.meta[pid]
            by_group[meta.group] += used
            by_label[meta.label] += used
        ended = [pid for pid in first.procs if pid not in last.procs]
        counted_cpu = sum(by_group[g] for g in counted)
        memory = [s for s in inside if s.memory is not None]

        def mem_sum(sample: TreeSample, key: str, groups: tuple[str, ...] | None) -> float:
            assert sample.memory is not None
            return sum(f.get(key, 0) for pid, f in sample.memory.items()
                       if groups is None or self.meta[pid].group in groups) / 1024.0

        def series(key: str, groups: tuple[str, ...] | None = counted) -> dict[str, float | None]:
            values = [mem_sum(s, key, groups) for s in memory]
            if not values:
                return {"mean": None, "max": None}
            return {"mean": round(statistics.fmean(values), 1), "max": round(max(values), 1)}

        peak = [mem_sum(s, "Pss", counted) for s in self.samples if s.memory is not None]
        uss = [mem_sum(s, "Private_Clean", counted) + mem_sum(s, "Private_Dirty", counted)
               for s in memory]
        # what PSS would be were no other process mapping the same files (the server and the
        # peer are Python processes of the same virtual environment): anonymous + shmem PSS +
        # every file page in full; exact for a one-process tree, an upper bound otherwise
        alone = [mem_sum(s, "Pss_Anon", counted) + mem_sum(s, "Pss_Shmem", counted)
                 + mem_sum(s, "RssFile", counted) for s in memory]
        others: dict[str, float] = {}
        for name in self.others:
            if name in first.others and name in last.others:
                others[name] = round(100.0 * (last.others[name] - first.others[name]) / span, 1)
        busy = total = None
        if first.system is not None and last.system is not None:
            busy = (last.system[0] - first.system[0]) / span  # cores busy, machine-wide
            total = (last.system[1] - first.system[1]) / span  # cores
        all_cpu = sum(by_group.values())
        other_load = None
        if busy is not None:
            known = all_cpu / span + sum(others.values()) / 100.0
            other_load = round(100.0 * max(0.0, busy - known), 1)
        return {
            "ok": True,
            "span_s": round(span, 2),
            "samples": len(inside),
            "memory_samples": len(memory),
            "cpu_s_per_s": round(counted_cpu / span, 4),
            "cpu_s_per_s_whole_tree": round(all_cpu / span, 4),
            "cpu_s_per_s_by_group": {g: round(v / span, 4) for g, v in sorted(by_group.items())},
            "cpu_percent_by_process": {k: round(100.0 * v / span, 1)
                                       for k, v in by_label.most_common() if v / span >= 0.002},
            "processes_ended_in_window": len(ended),
            "pss_mib": series("Pss"),
            "pss_mib_whole_tree": series("Pss", None),
            "pss_mib_peak_whole_run": round(max(peak), 1) if peak else None,
            "pss_anon_mib": series("Pss_Anon"),
            "pss_file_mib": series("Pss_File"),
            "uss_mib_mean": round(statistics.fmean(uss), 1) if uss else None,
            "rss_mib": series("Rss"),
            "pss_alone_bound_mib_mean": round(statistics.fmean(alone), 1) if alone else None,
            "other_cpu_percent": others,  # server, peer, bench: % of one core
            "machine_busy_percent": round(100.0 * busy, 1) if busy is not None else None,
            "machine_busy_share": round(busy / total, 3) if busy is not None and total
            else None,
            "unaccounted_cpu_percent": other_load,  # other processes on the machine
        }


# ---------------------------------------------------------------------------------------------
# the server and the peer, each in its own process


def _log_file(path: Path) -> IO[bytes]:
    return path.open("wb")


def _tail(path: Path, lines: int = 15) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


async def _terminate(proc: asyncio.subprocess.Process, timeout_s: float = 15.0) -> bool:
    """SIGTERM, then SIGKILL if it does not leave in time; True when it had to be killed."""
    if proc.returncode is not None:
        return False
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
        return False
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return True


class ServerProcess:
    """``python -m visio_desktop serve`` on a free loopback port."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str, log_path: Path,
                 log_file: IO[bytes]) -> None:
        self.proc = proc
        self.url = url
        self.log_path = log_path
        self.log_file = log_file

    @classmethod
    async def start(cls, secret: str, tmp: Path) -> ServerProcess:
        log_path = tmp / "server.log"
        log_file = _log_file(log_path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "visio_desktop", "serve", "--bind", "127.0.0.1", "--port", "0",
            "--keys", f"{API_KEY}:{secret}", cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=log_file, start_new_session=True)
        assert proc.stdout is not None
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30.0)).decode().strip()
        except TimeoutError:
            line = ""
        if not line.startswith("ready "):
            await _terminate(proc, 2.0)
            log_file.close()
            raise RuntimeError(f"room server did not start (said {line!r}): {_tail(log_path)}")
        return cls(proc, line.split()[1], log_path, log_file)

    async def stop(self) -> dict[str, Any]:
        killed = await _terminate(self.proc)
        self.log_file.close()
        return {"exit_code": self.proc.returncode, "killed": killed,
                "log_tail": _tail(self.log_path)}


class PeerProcess:
    """The fixed peer (``--role peer``); its stdout is one JSON record a line."""

    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path,
                 log_file: IO[bytes]) -> None:
        self.proc = proc
        self.log_path = log_path
        self.log_file = log_file
        self.records: list[dict[str, Any]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, url: str, token: str, tmp: Path) -> PeerProcess:
        log_path = tmp / "peer.log"
        log_file = _log_file(log_path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(SELF), "--role", "peer", "--url", url,
            "--token", token, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=log_file, start_new_session=True)
        return cls(proc, log_path, log_file)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            try:
                self.records.append(json.loads(raw))
            except ValueError:
                log.warning("peer said %r", raw[:200])

    def find(self, event: str, *, after: float = 0.0, **match: Any) -> dict[str, Any] | None:
        for record in self.records:
            if (record.get("event") == event and record.get("t", 0.0) >= after
                    and all(record.get(k) == v for k, v in match.items())):
                return record
        return None

    async def wait_for(self, event: str, timeout_s: float, **match: Any) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.find(event, **match)
            if found is not None or self.proc.returncode is not None:
                return found
            await asyncio.sleep(0.1)
        return None

    def view_of(self, video_sid: str | None, start: float, end: float) -> dict[str, Any]:
        """What the peer received of a candidate's video over [start, end] (its inbound-rtp
        stats: the track with ``video_sid``, or any video stream that moved in the window), and
        what the peer itself sent meanwhile."""
        stats = [r for r in self.records if r.get("event") == "stats" and start <= r["t"] <= end]
        if len(stats) < 2:
            return {"ok": False, "error": f"{len(stats)} peer stats samples in the window"}
        first, last = stats[0], stats[-1]
        span = last["t"] - first["t"]
        out: dict[str, Any] = {"ok": True, "span_s": round(span, 2)}
        before = {s["ssrc"]: s for s in first["inbound"]}
        chosen = None
        for entry in last["inbound"]:
            if entry["kind"] != "video" or entry["ssrc"] not in before:
                continue
            if video_sid and entry.get("track") == video_sid:
                chosen = entry
                break
            if entry["frames_decoded"] > before[entry["ssrc"]]["frames_decoded"]:
                chosen = entry
        if chosen is not None:
            prev = before[chosen["ssrc"]]
            out["received"] = {
                "size": f"{chosen['frame_width']}x{chosen['frame_height']}",
                "fps": round((chosen["frames_decoded"] - prev["frames_decoded"]) / span, 2),
                "kbps": round(8.0 * (chosen["bytes_received"] - prev["bytes_received"])
                              / span / 1000.0, 1),
                "packets_lost": chosen["packets_lost"] - prev["packets_lost"],
                "matched_by": "track sid" if video_sid and chosen.get("track") == video_sid
                else "the video stream that moved",
            }
        else:
            out["received"] = None
        sent0, sent1 = first.get("outbound"), last.get("outbound")
        if sent0 and sent1:
            out["peer_sent"] = {
                "size": f"{sent1['frame_width']}x{sent1['frame_height']}",
                "fps": round((sent1["frames_encoded"] - sent0["frames_encoded"]) / span, 2),
                "quality_limitation": sent1["quality_limitation"],
            }
        return out

    async def stop(self) -> dict[str, Any]:
        killed = await _terminate(self.proc)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._reader, 5.0)
        self.log_file.close()
        return {"exit_code": self.proc.returncode, "killed": killed,
                "log_tail": _tail(self.log_path)}


# ---------------------------------------------------------------------------------------------
# one candidate


@dataclass
class Context:
    url: str
    secret: str
    tmp: Path
    peer: PeerProcess
    server: ServerProcess
    duration: float
    warmup: float
    others: dict[str, int] = field(default_factory=dict)

    def token(self, identity: str) -> str:
        from visio_desktop.net.token import create_token

        return create_token(API_KEY, self.secret, identity=identity, room=ROOM)


def candidate_command(kind: str, url: str, token: str, duration: float,
                      report: Path) -> list[str]:
    if kind == "ours":
        return [sys.executable, "-m", "visio_desktop", "join", url, "--token", token,
                "--headless", "--video", "test-pattern", "--audio", "tone",
                "--duration", f"{duration:g}", "--report", str(report)]
    return [sys.executable, str(SELF), "--role", kind, "--url", url,
            "--token", token, "--duration", f"{duration:g}", "--report", str(report)]


def _shown(cmd: list[str]) -> list[str]:
    return ["<token>" if i > 0 and cmd[i - 1] == "--token" else a for i, a in enumerate(cmd)]


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def own_view(kind: str, report: dict[str, Any] | None) -> dict[str, Any]:
    """Join time, first frame and what the candidate received, from its own report."""
    if report is None:
        return {"join_ms": None, "first_frame_ms": None, "received": None,
                "errors": ["no report"]}
    if kind == "ours":
        video = next((t for t in report.get("remote_tracks", [])
                      if t.get("kind") == "video" and t.get("participant") == PEER), None)
        audio = next((t for t in report.get("remote_tracks", [])
                      if t.get("kind") == "audio" and t.get("participant") == PEER), None)
        received = None
        if video is not None:
            received = {"frames": video.get("frames"), "fps": video.get("fps"),
                        "size": f"{video.get('width')}x{video.get('height')}",
                        "pattern_decoded_ratio": video.get("decoded_ratio"),
                        "latency_median_ms": (video.get("latency_ms") or {}).get("median")}
        return {"join_ms": report.get("join_ms"),
                "first_frame_ms": video.get("first_frame_ms") if video else None,
                "first_frame_clock": "from the HeadlessParticipant's creation, just before the "
                                     "connect call (asyncio.run in between)",
                "received": received,
                "audio_seconds": audio.get("seconds") if audio else None,
                "errors": list(report.get("errors", [])),
                "left_cleanly": report.get("left_cleanly")}
    return {key: report.get(key) for key in
            ("join_ms", "first_frame_ms", "first_frame_clock", "received", "audio_seconds",
             "outbound", "errors", "versions")}


async def run_candidate(kind: str, ctx: Context, identity: str | None = None) -> dict[str, Any]:
    identity = identity or kind
    report_path = ctx.tmp / f"{identity}.json"
    log_path = ctx.tmp / f"{identity}.log"
    cmd = candidate_command(kind, ctx.url, ctx.token(identity), ctx.duration, report_path)
    log_file = _log_file(log_path)
    reaped_before = children_cpu_s()
    launched = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log_file,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    sampler = TreeSampler(proc.pid, browser=kind == "chromium", others=ctx.others)
    sampler.start()
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), ctx.duration + START_LIMIT_S)
    except TimeoutError:
        timed_out = True
    finally:
        await sampler.stop()
        # the whole tree on time-out; strays otherwise
        leftovers = await sampler.kill_alive(0.0 if timed_out else 5.0)
        if proc.returncode is None:
            await proc.wait()
        log_file.close()
    exited = time.monotonic()
    reaped_cpu = children_cpu_s() - reaped_before  # the tree's processes that were waited for
    sampled = sampler.sampled_cpu_s()
    report = _read_json(report_path)
    view = own_view(kind, report)

    published = ctx.peer.find("track_published", identity=identity, kind="video",
                              after=launched)
    failures: list[str] = []
    if published is not None:
        start = published["t"] + ctx.warmup
    else:
        failures.append("the peer never saw its video published")
        start = max(launched, exited - ctx.duration + ctx.warmup)
    end = max(start, min(start - ctx.warmup + ctx.duration - LEAVE_MARGIN_S, exited))
    counted = ("browser",) if kind == "chromium" else ("client",)
    window = sampler.window(start, end, counted)
    peer_view = ctx.peer.view_of(published.get("sid") if published else None, start, end)
    if timed_out:
        failures.append(f"did not finish within {ctx.duration + START_LIMIT_S:g} s")
    if proc.returncode != 0:
        failures.append(f"exit code {proc.returncode}")
    if not window.get("ok"):
        failures.append(f"window: {window.get('error')}")
    if view.get("errors"):
        failures.append(f"errors: {view['errors']}")
    if view.get("first_frame_ms") is None:
        failures.append("received no video frame")
    if not peer_view.get("received"):
        failures.append("the peer received no video from it")
    return {
        "candidate": kind,
        "identity": identity,
        "command": _shown(cmd),
        "exit_code": proc.returncode,
        "timed_out": timed_out,
        "strays_killed": leftovers,  # still running 5 s after the candidate's root exited
        "max_processes": sampler.max_processes,
        "processes": sorted({m.label for m in sampler.meta.values()}),
        "lifetime": {"wall_s": round(exited - launched, 2),
                     # both are lower bounds: Chromium's children are not all waited for, and
                     # sampling misses each process's last half second
                     "cpu_s_whole_tree": round(max(reaped_cpu, sum(sampled.values())), 2),
                     "cpu_s": round(sum(sampled.get(g, 0.0) for g in counted), 2)
                     if len(sampled) > 1 else round(max(reaped_cpu, sum(sampled.values())), 2),
                     "cpu_s_reaped": round(reaped_cpu, 2),
                     "cpu_s_sampled_by_group": {g: round(v, 2) for g, v in sampled.items()},
                     "video_published_after_s": round(published["t"] - launched, 2)
                     if published else None},
        "window": {"start_after_publish_s": ctx.warmup, "planned_s":
                   round(ctx.duration - ctx.warmup - LEAVE_MARGIN_S, 2)},
        **view,
        "usage": window,
        "peer_view": peer_view,
        "log_tail": _tail(log_path) if failures else [],
        "failures": failures,
        "ok": not failures,
    }


# ---------------------------------------------------------------------------------------------
# profiling our candidate


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
THREAD = re.compile(r"^thread \((?P<id>(?:0x)?[0-9a-fA-F]+)\):?\s*(?P<name>.*)$")
# A leaf frame in one of these files, on a line that calls one of these, is a thread waiting
# (for a lock, a queue, the selector) that py-spy's idle detection let through.
WAITING_FILES = ("threading.py", "queue.py", "concurrent/futures/thread.py", "selectors.py")
WAITING_CALL = re.compile(r"\.(acquire|wait|get|select|poll)\(")
# frames every stack of a thread or of the event loop goes through: left out of "inclusive"
PLUMBING = ("(threading.py)", "(asyncio/runners.py)", "(asyncio/base_events.py)",
            "(asyncio/events.py)", "(concurrent/futures/thread.py)", "(runpy.py)",
            "(visio_desktop/cli.py)", "(visio_desktop/__main__.py)", "<module>",
            "(<frozen runpy>)")


def _path_prefixes() -> list[str]:
    import sysconfig

    paths = sysconfig.get_paths()
    found = {paths.get("purelib", ""), paths.get("platlib", ""), paths.get("stdlib", ""),
             str(ROOT)}
    return sorted((p for p in found if p), key=len, reverse=True)


def short_path(path: str, prefixes: list[str]) -> str:
    for prefix in prefixes:
        if path.startswith(prefix + "/"):
            return path[len(prefix) + 1:]
    return path


def is_waiting(file: str, line: int | None) -> bool:
    import linecache

    if line is None or not file.endswith(WAITING_FILES):
        return False
    return WAITING_CALL.search(linecache.getline(file, line)) is not None


@dataclass
class StackCounts:
    """py-spy's busy samples, per thread: by innermost function ("own"), by function anywhere
    on the stack ("inclusive") and by the innermost frame's file."""

    own: dict[str, Counter[str]] = field(default_factory=dict)  # tid -> function -> samples
    inclusive: dict[str, Counter[str]] = field(default_factory=dict)
    files: dict[str, Counter[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # tid -> thread name
    busy: Counter[str] = field(default_factory=Counter)  # tid -> samples
    waiting: Counter[str] = field(default_factory=Counter)


def parse_py_spy_raw(text: str) -> StackCounts:
    """Reads ``py-spy record --format raw --threads --full-filenames`` ("thread;frame;...;frame
    COUNT" a line). Stacks whose innermost frame waits (see WAITING_FILES) count as waiting."""
    prefixes = _path_prefixes()
    counts = StackCounts()
    for raw in text.splitlines():
        stack, _, count = raw.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        tid = "?"
        if frames and (head := THREAD.match(frames[0])) is not None:
            frames.pop(0)
            ident = head.group("id")
            tid = str(int(ident, 16)) if ident.startswith("0x") else ident
            counts.names[tid] = head.group("name") or "?"
        if not frames:
            continue
        names = []
        leaf_file, leaf_line = "", None
        for frame in frames:
            match = FRAME.match(frame)
            if match is None:
                names.append(frame)
                leaf_file, leaf_line = frame, None
                continue
            leaf_file = match.group("file")
            leaf_line = int(match.group("line")) if match.group("line") else None
            names.append(f"{match.group('func')} ({short_path(leaf_file, prefixes)})")
        if is_waiting(leaf_file, leaf_line):
            counts.waiting[tid] += n
            continue
        counts.busy[tid] += n
        counts.own.setdefault(tid, Counter())[names[-1]] += n
        counts.files.setdefault(tid, Counter())[short_path(leaf_file, prefixes)] += n
        inclusive = counts.inclusive.setdefault(tid, Counter())
        for name in set(names):
            if not name.endswith(PLUMBING):
                inclusive[name] += n
    return counts


def attribute(counts: StackCounts, cpu_percent: dict[str, float], names: dict[str, str],
              top: int) -> dict[str, Any]:
    """Shares each thread's measured CPU (/proc, % of one core) among the functions py-spy saw
    it busy in, in proportion to their samples (py-spy's own idle detection does not work
    here: a thread blocked on a lock or on the GIL looks busy to it, so its sample counts say
    where a thread is, not how much CPU it uses)."""
    def spread(table: dict[str, Counter[str]]) -> list[dict[str, Any]]:
        cpu: Counter[str] = Counter()
        samples: Counter[str] = Counter()
        for tid, functions in table.items():
            busy = counts.busy[tid]
            for name, n in functions.items():
                samples[name] += n
                if busy:
                    cpu[name] += cpu_percent.get(tid, 0.0) * n / busy
        total = sum(counts.busy.values())
        return [{"name": name, "cpu_percent_of_one_core": round(pct, 1),
                 "samples": samples[name],
                 "percent_of_busy_samples": round(100.0 * samples[name] / total, 1)
                 if total else None}
                for name, pct in cpu.most_common(top)]

    threads = []
    for tid in sorted(set(cpu_percent) | set(counts.busy), key=lambda t: -cpu_percent.get(t, 0)):
        pct = cpu_percent.get(tid, 0.0)
        if pct < 0.5 and not counts.busy[tid]:
            continue
        threads.append({"tid": tid, "name": counts.names.get(tid) or names.get(tid, "?"),
                        "cpu_percent": round(pct, 1), "busy_samples": counts.busy[tid],
                        "waiting_samples": counts.waiting[tid],
                        "top": [name for name, _ in counts.own.get(tid, Counter())
                                .most_common(3)]})
    unseen = sum(pct for tid, pct in cpu_percent.items() if not counts.busy[tid])
    return {
        "busy_samples": sum(counts.busy.values()),
        "waiting_samples_dropped": sum(counts.waiting.values()),
        "process_cpu_percent": round(sum(cpu_percent.values()), 1),
        "cpu_percent_in_threads_py_spy_saw_no_python_in": round(unseen, 1),
        "top_own": spread(counts.own),
        "top_inclusive": spread(counts.inclusive),
        "by_file": spread(counts.files)[:12],
        "by_thread": threads,
    }


def thread_cpu(pid: int) -> dict[str, tuple[str, float]]:
    """tid -> (OS thread name, CPU seconds) of every thread of ``pid``."""
    out: dict[str, tuple[str, float]] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        stat = _task_stat(pid, tid)
        if stat is not None:
            out[tid] = stat
    return out


def _task_stat(pid: int, tid: str) -> tuple[str, float] | None:
    try:
        text = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
    except OSError:
        return None
    head, _, rest = text.rpartition(")")
    fields = rest.split()
    return head[head.index("(") + 1:], (int(fields[11]) + int(fields[12])) / TICK


def py_spy_path() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else None


async def profile_ours(ctx: Context, seconds: float, native: bool, top: int,
                       keep_raw: Path | None = None) -> dict[str, Any]:
    """Runs our candidate once more and samples it with py-spy for ``seconds`` from ``warmup``
    after its video is published; falls back to cProfile when py-spy is missing or fails."""
    tool = py_spy_path()
    if tool is None:
        return await cprofile_ours(ctx, seconds, top, "py-spy is not installed")
    identity = "ours-profile"
    report_path = ctx.tmp / f"{identity}.json"
    duration = seconds + ctx.warmup + 4.0
    cmd = candidate_command("ours", ctx.url, ctx.token(identity), duration, report_path)
    log_path = ctx.tmp / f"{identity}.log"
    log_file = _log_file(log_path)
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=log_file,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    raw_path = ctx.tmp / "ours.pyspy.txt"
    spy_output = ""
    spy_rc: int | None = None
    spy_cmd: list[str] = [tool]
    threads_before: dict[str, tuple[str, float]] = {}
    threads_after: dict[str, tuple[str, float]] = {}
    spy_started = spy_ended = spy_cpu = 0.0
    try:
        published = await ctx.peer.wait_for("track_published", 60.0, identity=identity,
                                            kind="video")
        if published is None:
            return {"tool": "py-spy", "ok": False, "error": "our client never published"}
        await asyncio.sleep(max(0.0, published["t"] + ctx.warmup - time.monotonic()))
        spy_cmd = [tool, "record", "--pid", str(proc.pid), "--duration", f"{seconds:g}",
                   "--rate", str(PROFILE_RATE), "--format", "raw", "--threads",
                   "--full-filenames", "--output", str(raw_path)]
        # blocking (pausing the process at every sample) slows it down so much that its
        # threads are always behind, busy catching up; --native needs it, though
        spy_cmd.append("--native" if native else "--nonblocking")
        threads_before, spy_started = thread_cpu(proc.pid), time.monotonic()
        reaped = children_cpu_s()
        spy = await asyncio.create_subprocess_exec(
            *spy_cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(spy.communicate(), seconds + 30.0)
        except TimeoutError:
            spy.kill()
            out, _ = await spy.communicate()
        threads_after, spy_ended = thread_cpu(proc.pid), time.monotonic()
        spy_cpu = children_cpu_s() - reaped
        spy_output = out.decode(errors="replace")
        spy_rc = spy.returncode
    finally:
        try:
            await asyncio.wait_for(proc.wait(), duration + START_LIMIT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log_file.close()
    raw = _read_text(raw_path)
    if spy_rc != 0 or not raw.strip():
        reason = f"py-spy failed (exit {spy_rc}): {spy_output.strip()[-400:]}"
        return await cprofile_ours(ctx, seconds, top, reason)
    if keep_raw is not None:
        _write_text(keep_raw, raw)
    span = max(spy_ended - spy_started, 1e-3)
    cpu_percent: dict[str, float] = {}
    for tid, (_name, cpu) in threads_after.items():
        before = threads_before.get(tid)
        cpu_percent[tid] = 100.0 * (cpu - (before[1] if before else 0.0)) / span
    parsed = attribute(parse_py_spy_raw(raw), cpu_percent,
                       {tid: name for tid, (name, _) in threads_after.items()}, top)
    return {"tool": "py-spy", "ok": True, "seconds": seconds, "rate_hz": PROFILE_RATE,
            "native": native, "command": " ".join(Path(spy_cmd[0]).name if i == 0 else a
                                                  for i, a in enumerate(spy_cmd)),
            "started_after_publish_s": ctx.warmup, "py_spy_cpu_percent":
            round(100.0 * spy_cpu / span, 1), "py_spy_says": spy_output.strip()[-300:],
            **parsed}


def _pstats_top(path: Path, top: int, seconds: float) -> dict[str, Any]:
    import pstats

    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    rows = sorted(entries.items(), key=lambda item: -item[1][2])[:top]
    return {"top_own": [
        {"name": f"{func} ({Path(file).name}:{line})", "calls": nc,
         "own_s": round(tt, 3), "inclusive_s": round(ct, 3),
         "percent_of_one_core": round(100.0 * tt / seconds, 1)}
        for (file, line, func), (_cc, nc, tt, ct, _callers) in rows]}


async def cprofile_ours(ctx: Context, seconds: float, top: int, reason: str) -> dict[str, Any]:
    """cProfile inside our process (its main thread only: the event loop), for the whole run."""
    identity = "ours-cprofile"
    prof = ctx.tmp / "ours.prof"
    duration = seconds + ctx.warmup
    cmd = candidate_command("ours", ctx.url, ctx.token(identity), duration,
                            ctx.tmp / f"{identity}.json")
    cmd[1:3] = ["-m", "cProfile", "-o", str(prof), "-m", "visio_desktop"]
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        await asyncio.wait_for(proc.wait(), duration + START_LIMIT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    wall = time.monotonic() - started
    if not prof.exists():
        return {"tool": "cProfile", "ok": False, "why_not_py_spy": reason,
                "error": f"no profile written (exit {proc.returncode})"}
    return {"tool": "cProfile", "ok": True, "why_not_py_spy": reason,
            "scope": "main thread only, whole run (start-up included)", "seconds": round(wall, 1),
            **_pstats_top(prof, top, wall)}


# ---------------------------------------------------------------------------------------------
# the run


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _get(result: dict[str, Any], *path: str) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    ours = results.get("ours")
    out: dict[str, dict[str, float | None]] = {}
    if ours is None:
        return out
    for other in ("sdk", "chromium"):
        theirs = results.get(other)
        if theirs is None:
            continue
        out[f"ours/{other}"] = {
            "cpu_s_per_s": _ratio(_get(ours, "usage", "cpu_s_per_s"),
                                  _get(theirs, "usage", "cpu_s_per_s")),
            "pss_mib_mean": _ratio(_get(ours, "usage", "pss_mib", "mean"),
                                   _get(theirs, "usage", "pss_mib", "mean")),
            "pss_mib_peak": _ratio(_get(ours, "usage", "pss_mib_peak_whole_run"),
                                   _get(theirs, "usage", "pss_mib_peak_whole_run")),
            "pss_alone_bound_mib_mean": _ratio(_get(ours, "usage", "pss_alone_bound_mib_mean"),
                                               _get(theirs, "usage", "pss_mib", "mean")),
            "join_ms": _ratio(ours.get("join_ms"), theirs.get("join_ms")),
            "first_frame_ms": _ratio(ours.get("first_frame_ms"), theirs.get("first_frame_ms")),
            "lifetime_cpu_s": _ratio(_get(ours, "lifetime", "cpu_s"),
                                     _get(theirs, "lifetime", "cpu_s")),
        }
    return out


def verdict(results: dict[str, dict[str, Any]],
            rows: dict[str, dict[str, float | None]]) -> dict[str, Any]:
    cpu = [rows[k]["cpu_s_per_s"] for k in rows]
    mem = rows.get("ours/chromium", {}).get("pss_mib_mean")
    return {
        "aim": AIM,
        "cpu_not_above_either": all(r is not None and r <= 1.0 for r in cpu) if cpu else None,
        "memory_at_most_half_of_chromium": mem <= 0.5 if mem is not None else None,
    }


NAMES = {"ours": "ours", "sdk": "official SDK", "chromium": "Chromium"}


def print_table(results: dict[str, dict[str, Any]]) -> None:
    head = (f"{'candidate':<13} {'join':>6} {'1st frame':>9} {'CPU s/s':>7} {'PSS MiB':>13} "
            f"{'USS':>6} {'sent (peer view)':>24} {'received':>17} {'life CPU':>8} "
            f"{'srv%':>5} {'peer%':>5} {'other%':>6}")
    print(head)
    print("-" * len(head))
    for kind, r in results.items():
        usage = r.get("usage", {})
        pss = usage.get("pss_mib") or {}
        got = (r.get("peer_view") or {}).get("received") or {}
        sent = (f"{got.get('size')} {_fmt(got.get('fps'))}fps {_fmt(got.get('kbps'), 0)}k"
                if got else "-")
        rec = r.get("received") or {}
        recv = f"{rec.get('size')} {_fmt(rec.get('fps'))}fps" if rec else "-"
        others = usage.get("other_cpu_percent") or {}
        print(f"{NAMES.get(kind, kind):<13} {_fmt(r.get('join_ms'), 0):>6} "
              f"{_fmt(r.get('first_frame_ms'), 0):>9} {_fmt(usage.get('cpu_s_per_s'), 3):>7} "
              f"{_fmt(pss.get('mean'), 0) + ' / ' + _fmt(pss.get('max'), 0):>13} "
              f"{_fmt(usage.get('uss_mib_mean'), 0):>6} {sent:>24} {recv:>17} "
              f"{_fmt(_get(r, 'lifetime', 'cpu_s')):>8} "
              f"{_fmt(others.get('server'), 0):>5} {_fmt(others.get('peer'), 0):>5} "
              f"{_fmt(usage.get('unaccounted_cpu_percent'), 0):>6}"
              + ("" if r.get("ok") else "  [NOT OK]"))


LEGEND = """\
columns: join, 1st frame = ms from the connect call to connected and to the first decoded frame
of the peer's video; CPU s/s = CPU-seconds per second of the candidate's processes over the
window (1.0 = one core); PSS MiB = mean / max over the window, summed over the processes; USS =
their private memory (mean); sent (peer view) = the candidate's video as the peer decoded it
over the window (size, frames a second, kbit/s); received = the peer's video as the candidate
got it (its own count); life CPU = CPU-seconds of the same processes over their whole life
(start-up and leaving included); srv%, peer% = the room server's and the peer's CPU (% of one core)
meanwhile; other% = the rest of the machine (other users' processes), % of one core.
Chromium's row counts the Chromium process tree only (not the Python driver or Playwright's
node, listed below)."""


def print_details(results: dict[str, dict[str, Any]]) -> None:
    for kind, r in results.items():
        usage = r.get("usage", {})
        parts = ", ".join(f"{k} {v:g}%" for k, v in
                          (usage.get("cpu_percent_by_process") or {}).items())
        print(f"  {NAMES.get(kind, kind)}: CPU by process (% of one core): {parts or '-'}")
        groups = usage.get("cpu_s_per_s_by_group") or {}
        if "driver" in groups:
            print(f"    driver (not counted): {groups['driver']:.3f} CPU s/s, "
                  f"{_fmt(_get(r, 'lifetime', 'cpu_s_sampled_by_group', 'driver'))} CPU s over "
                  f"its life; PSS with it {_fmt(_get(usage, 'pss_mib_whole_tree', 'mean'), 0)}"
                  " MiB")
        print(f"    PSS anon {_fmt(_get(usage, 'pss_anon_mib', 'mean'), 0)} MiB, file "
              f"{_fmt(_get(usage, 'pss_file_mib', 'mean'), 0)} MiB; RSS "
              f"{_fmt(_get(usage, 'rss_mib', 'mean'), 0)} MiB; PSS were it alone <= "
              f"{_fmt(usage.get('pss_alone_bound_mib_mean'), 0)} MiB; peak PSS "
              f"{_fmt(usage.get('pss_mib_peak_whole_run'), 0)} MiB; window "
              f"{_fmt(usage.get('span_s'))} s; machine busy "
              f"{_fmt(usage.get('machine_busy_percent'), 0)}%")
        peer_sent = _get(r, "peer_view", "peer_sent")
        out = r.get("outbound")
        if out or peer_sent:
            print(f"    its encoder: {out or '-'}; the peer sent it "
                  f"{peer_sent.get('size') if peer_sent else '-'} at "
                  f"{_fmt(peer_sent.get('fps') if peer_sent else None)} fps (limit: "
                  f"{peer_sent.get('quality_limitation') if peer_sent else '-'})")


def print_ratios(rows: dict[str, dict[str, float | None]], aims: dict[str, Any]) -> None:
    for name, row in rows.items():
        print(f"  {name:<14} CPU x{_fmt(row['cpu_s_per_s'], 2)}, PSS x"
              f"{_fmt(row['pss_mib_mean'], 2)} (peak x{_fmt(row['pss_mib_peak'], 2)}; "
              f"ours were it alone x{_fmt(row['pss_alone_bound_mib_mean'], 2)}), join x"
              f"{_fmt(row['join_ms'], 2)}, first frame x{_fmt(row['first_frame_ms'], 2)}, "
              f"life CPU x{_fmt(row['lifetime_cpu_s'], 2)}")
    cpu, mem = aims["cpu_not_above_either"], aims["memory_at_most_half_of_chromium"]
    print(f"  aim ({AIM}): CPU {'met' if cpu else 'MISSED' if cpu is not None else 'n/a'}, "
          f"memory {'met' if mem else 'MISSED' if mem is not None else 'n/a'}")


def print_profile(profile: dict[str, Any]) -> None:
    if not profile.get("ok"):
        print(f"profile: {profile.get('tool')} failed: {profile.get('error')}"
              + (f" (py-spy: {profile['why_not_py_spy']})" if "why_not_py_spy" in profile
                 else ""))
        return
    if profile["tool"] == "py-spy":
        print(f"profile of our client (py-spy {profile['seconds']:g} s at {profile['rate_hz']} "
              f"Hz, not pausing it, from {profile['started_after_publish_s']:g} s after "
              f"publishing): the process used {profile['process_cpu_percent']:g}% of one core "
              f"meanwhile (/proc; py-spy itself {profile['py_spy_cpu_percent']:g}%)")
        print("  by thread (/proc CPU, % of one core; where py-spy saw it busy):")
        for row in profile["by_thread"]:
            print(f"    {row['cpu_percent']:5.1f}%  {row['name']:<14} "
                  f"{', '.join(row['top']) or '(no Python stack)'}")
        print("  top functions by own time (each thread's CPU shared by its busy samples; own = "
              "innermost\n  Python frame, the C code it calls included):")
        for row in profile["top_own"]:
            print(f"    {row['cpu_percent_of_one_core']:5.1f}%  {row['name']}")
        print("  by file: " + ", ".join(f"{r['name']} {r['cpu_percent_of_one_core']:g}%"
                                        for r in profile["by_file"][:8]))
        print("  top inclusive: " + ", ".join(f"{r['name']} {r['cpu_percent_of_one_core']:g}%"
                                              for r in profile["top_inclusive"][:10]))
    else:
        print(f"profile of our client (cProfile, {profile['scope']}; py-spy not used: "
              f"{profile['why_not_py_spy']}):")
        for row in profile["top_own"]:
            print(f"    {row['percent_of_one_core']:5.1f}%  {row['own_s']:7.3f} s own  "
                  f"{row['calls']:>8} calls  {row['name']}")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("livekit", "aiortc", "av", "numpy", "playwright", "py-spy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def auto_notes(results: dict[str, dict[str, Any]]) -> list[str]:
    """Warnings about this run's fairness: what the peer saw, how busy the machine was."""
    notes = []
    for kind, r in results.items():
        got = _get(r, "peer_view", "received") or {}
        if got and (got.get("size") != f"{WIDTH}x{HEIGHT}" or (got.get("fps") or 0) < 0.9 * FPS):
            notes.append(f"{NAMES.get(kind, kind)} sent {got.get('size')} at {got.get('fps')} "
                         f"fps (not {WIDTH}x{HEIGHT} at {FPS}): its CPU is for less work")
        share = _get(r, "usage", "machine_busy_share")
        if share is not None and share >= 0.9:
            notes.append(f"the machine was saturated during {NAMES.get(kind, kind)}'s window "
                         f"({100 * share:.0f}% of all cores busy; other users: "
                         f"{_get(r, 'usage', 'unaccounted_cpu_percent')}% of one core): "
                         "CPU figures are squeezed and frame rates may drop")
        peer = _get(r, "peer_view", "peer_sent") or {}
        if peer and (peer.get("size") != f"{WIDTH}x{HEIGHT}" or peer.get("fps", 0) < 0.9 * FPS):
            notes.append(f"during {NAMES.get(kind, kind)}'s window the peer itself sent "
                         f"{peer.get('size')} at {peer.get('fps')} fps (limited by "
                         f"{peer.get('quality_limitation')}): that candidate had less to decode")
        rec = r.get("received") or {}
        if rec.get("fps") is not None and rec["fps"] < 0.9 * FPS:
            notes.append(f"{NAMES.get(kind, kind)} received only {rec['fps']} fps of the "
                         "peer's video")
    return notes


NOTES = [
    "Linux only: /proc/<pid>/stat, smaps_rollup and status of every process of the tree, "
    "sampled every 0.5 s (memory every 1 s); CPU of a process that ends inside the window is "
    "lost after its last sample (see processes_ended_in_window).",
    "PSS shares every file page among the processes that map it: the server and the peer are "
    "Python processes of the same environment (python, numpy, av...), which lowers the Python "
    "candidates' PSS; 'were it alone' counts their file pages in full (an upper bound).",
    "The candidates share the machine's cores with the server, the peer, this bench and any "
    "other user (other%); WebRTC stacks adapt to CPU shortage (fewer frames, a smaller size), "
    "so check the 'sent (peer view)' column before reading the CPU column.",
    "The test sources are synthetic: the pattern is rendered in numpy (ours, SDK) or drawn on "
    "a canvas (Chromium) every frame; a camera would cost differently.",
    "Join times are the clients' own: ours and the SDK time connect() in their process, "
    "Chromium the harness's room.connect() in the page; connect() returns once the peer "
    "connection is up in all three.",
]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    kinds = [k for k in args.candidates if not (k == "chromium" and args.skip_browser)]
    print(TITLE)
    print(f"measures: {MEASURED}")
    print(f"anchor:   {ANCHOR}")
    print(f"aim:      {AIM}")
    print(f"setup:    each candidate publishes {WIDTH}x{HEIGHT} at {FPS} fps (VP8, simulcast "
          f"off) + {TONE_HZ:g} Hz tone for {args.duration:g} s and receives the same from a "
          f"peer (official SDK, own process); window from {args.warmup:g} s after the peer "
          f"sees its video to {LEAVE_MARGIN_S:g} s before it leaves; candidates: "
          f"{', '.join(kinds)}, one at a time; server in its own process")
    print(f"machine:  {platform.system()} {platform.machine()}, {cores} CPU cores usable, "
          f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(flush=True)
    secret = secrets.token_hex(16)
    results: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    profile: dict[str, Any] = {"ok": False, "tool": None, "error": "not run"}
    with tempfile.TemporaryDirectory(prefix="bench-join-") as tmp_name:
        tmp = Path(tmp_name)
        server = await ServerProcess.start(secret, tmp)
        from visio_desktop.net.token import create_token

        peer = await PeerProcess.start(
            server.url, create_token(API_KEY, secret, identity=PEER, room=ROOM), tmp)
        ctx = Context(url=server.url, secret=secret, tmp=tmp, peer=peer, server=server,
                      duration=args.duration, warmup=args.warmup,
                      others={"server": server.proc.pid, "peer": peer.proc.pid,
                              "bench": os.getpid()})
        server_exit: dict[str, Any] = {}
        peer_exit: dict[str, Any] = {}
        try:
            ready = await peer.wait_for("ready", 60.0)
            if ready is None:
                raise RuntimeError(f"the peer did not get ready: {_tail(peer.log_path)}")
            print(f"peer ready: publishing {ready.get('video')} (+ tone)", flush=True)
            for kind in kinds:
                print(f"{kind}: running ({args.duration:g} s in the room) ...", flush=True)
                result = await run_candidate(kind, ctx)
                results[kind] = result
                usage = result["usage"]
                print(f"{kind}: join {_fmt(result.get('join_ms'), 0)} ms, first frame "
                      f"{_fmt(result.get('first_frame_ms'), 0)} ms, "
                      f"{_fmt(usage.get('cpu_s_per_s'), 3)} CPU s/s, PSS "
                      f"{_fmt(_get(usage, 'pss_mib', 'mean'), 0)} MiB"
                      + ("" if result["ok"] else f"  [NOT OK: {'; '.join(result['failures'])}]"),
                      flush=True)
                failures += [f"{kind}: {f}" for f in result["failures"]]
                await asyncio.sleep(PAUSE_S)
            if not args.no_profile:
                print(f"profiling our client ({args.profile_s:g} s) ...", flush=True)
                try:
                    profile = await profile_ours(
                        ctx, args.profile_s, args.profile_native, args.top,
                        Path(args.profile_raw) if args.profile_raw else None)
                except Exception as exc:
                    log.exception("profiling failed")
                    profile = {"ok": False, "tool": "py-spy", "error": repr(exc)}
        finally:
            peer_exit = await peer.stop()
            server_exit = await server.stop()

    rows = ratios(results)
    aims = verdict(results, rows)
    notes = auto_notes(results) + NOTES
    print()
    print_table(results)
    print()
    print(LEGEND)
    print()
    print_details(results)
    print()
    print("ratios (ours / theirs; below 1: ours uses less):")
    print_ratios(rows, aims)
    print()
    if not args.no_profile:
        print_profile(profile)
        print()
    print("notes:")
    for note in notes:
        print(textwrap.fill(note, 100, initial_indent="  - ", subsequent_indent="    "))
    if server_exit.get("exit_code") not in (0, None):
        failures.append(f"server exit {server_exit.get('exit_code')}")
    return {
        "benchmark": "join",
        "title": TITLE,
        "measured": MEASURED,
        "anchor": ANCHOR,
        "aim": AIM,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "cpu_cores": cores, "load_average_at_start": os.getloadavg(),
                     "versions": versions()},
        "config": {
            "duration_s": args.duration, "warmup_s": args.warmup,
            "leave_margin_s": LEAVE_MARGIN_S, "sample_period_s": SAMPLE_S,
            "video": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "codec": "VP8",
                      "simulcast": False},
            "audio": {"tone_hz": TONE_HZ, "codec": "Opus"},
            "peer": "official livekit SDK in its own process (publishes the same pattern and "
                    "tone; subscribes to each candidate without pulling frames into Python)",
            "receivers_read_pattern_every": CHECK_EVERY,
            "chromium_counted": "the Chromium process tree; driver (Python + Playwright node) "
                                "reported apart",
            "candidates": kinds,
        },
        "results": results,
        "ratios": rows,
        "verdict": aims,
        "profile": profile,
        "server": server_exit,
        "peer": peer_exit,
        "notes": notes,
        "failures": failures,
        "ok": not failures,
    }


# ---------------------------------------------------------------------------------------------
# roles run as subprocesses: the peer, the SDK candidate, the Chromium candidate


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


async def role_peer(args: argparse.Namespace) -> int:
    from livekit import rtc

    from tests.support.sdk_client import AudioStats, SdkParticipant, VideoStats

    class Peer(SdkParticipant):
        """Subscribes (libwebrtc decodes) but pulls no frames into Python: its stats say what
        each candidate sent."""

        async def _receive_video(self, track: rtc.RemoteVideoTrack, stats: VideoStats) -> None:
            return None

        async def _receive_audio(self, track: rtc.RemoteAudioTrack, stats: AudioStats) -> None:
            return None

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    peer = Peer(PEER)
    await peer.connect(args.url, args.token)
    room = peer.room
    assert room is not None

    def on_published(pub: rtc.RemoteTrackPublication, who: rtc.RemoteParticipant) -> None:
        kind = "video" if pub.kind == rtc.TrackKind.KIND_VIDEO else "audio"
        _emit({"t": time.monotonic(), "event": "track_published", "identity": who.identity,
               "kind": kind, "sid": pub.sid})

    room.on("track_published", on_published)
    room.on("participant_connected", lambda p: _emit(
        {"t": time.monotonic(), "event": "participant_connected", "identity": p.identity}))
    room.on("participant_disconnected", lambda p: _emit(
        {"t": time.monotonic(), "event": "participant_disconnected", "identity": p.identity}))
    await peer.publish_pattern(WIDTH, HEIGHT, float(FPS), simulcast=False)
    await peer.publish_tone(TONE_HZ)
    ready = False
    try:
        while not stop.is_set():
            record = await _peer_stats(room)
            record.update(t=time.monotonic(), event="stats")
            _emit(record)
            if not ready and (record.get("outbound") or {}).get("frames_encoded", 0) > 0:
                ready = True
                _emit({"t": time.monotonic(), "event": "ready",
                       "video": f"{WIDTH}x{HEIGHT}@{FPS}"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PEER_STATS_S)
    finally:
        await peer.disconnect()
    return 0


async def _peer_stats(room: Any) -> dict[str, Any]:
    inbound: list[dict[str, Any]] = []
    outbound: dict[str, Any] | None = None
    try:
        stats = await room.get_rtc_stats()
    except Exception as exc:
        return {"inbound": [], "outbound": None, "error": repr(exc)}
    for entry in stats.subscriber_stats:
        if entry.HasField("inbound_rtp"):
            rtp = entry.inbound_rtp
            inbound.append({
                "ssrc": rtp.stream.ssrc, "kind": rtp.stream.kind,
                "track": rtp.inbound.track_identifier,
                "frames_decoded": rtp.inbound.frames_decoded,
                "frame_width": rtp.inbound.frame_width, "frame_height": rtp.inbound.frame_height,
                "bytes_received": rtp.inbound.bytes_received,
                "packets_lost": rtp.received.packets_lost,
            })
    for entry in stats.publisher_stats:
        if entry.HasField("outbound_rtp") and entry.outbound_rtp.stream.kind == "video":
            rtp = entry.outbound_rtp
            reason = int(rtp.outbound.quality_limitation_reason)
            outbound = {
                "frames_encoded": rtp.outbound.frames_encoded,
                "frame_width": rtp.outbound.frame_width,
                "frame_height": rtp.outbound.frame_height,
                "quality_limitation": {0: "none", 1: "cpu", 2: "bandwidth"}.get(reason, "other"),
            }
    return {"inbound": inbound, "outbound": outbound}


async def role_sdk(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    from livekit import rtc

    from tests.support.sdk_client import SdkParticipant, VideoStats
    from visio_desktop.media.synthetic import latency_ms, pattern_psnr, read_pattern

    checked = Counter[str]()

    class Candidate(SdkParticipant):
        """Receives like our headless client: every frame counted, every 2nd one converted
        (to RGBA here, RGB there) and its pattern read, the PSNR of every 15th one read."""

        async def _receive_video(self, track: rtc.RemoteVideoTrack, stats: VideoStats) -> None:
            stream = rtc.VideoStream(track)  # the decoder's own buffers
            try:
                async for event in stream:
                    now = time.monotonic()
                    frame = event.frame
                    stats.frames += 1
                    if stats.first_frame_at is None:
                        stats.first_frame_at = now
                    stats.last_frame_at = now
                    stats.width, stats.height = frame.width, frame.height
                    if (stats.frames - 1) % CHECK_EVERY:
                        continue
                    rgba = frame.convert(rtc.VideoBufferType.RGBA)
                    image = np.frombuffer(rgba.data, dtype=np.uint8).reshape(
                        rgba.height, rgba.width, 4)
                    checked[stats.track_sid] += 1
                    reading = read_pattern(image)
                    if reading is None:
                        continue
                    stats.decoded += 1
                    stats.latencies_ms.append(latency_ms(reading.timestamp_ms))
                    if (stats.decoded - 1) % PSNR_EVERY == 0:
                        stats.psnr_db.append(pattern_psnr(image, reading.counter))
            finally:
                with contextlib.suppress(Exception):
                    await stream.aclose()

    client = Candidate("sdk")
    errors: list[str] = []
    started = time.monotonic()
    join_ms: float | None = None
    outbound: dict[str, Any] | None = None
    try:
        await client.connect(args.url, args.token)
        join_ms = round(1000.0 * (time.monotonic() - started), 1)
        await client.publish_pattern(WIDTH, HEIGHT, float(FPS), simulcast=False)
        await client.publish_tone(TONE_HZ)
        await asyncio.sleep(args.duration)
        assert client.room is not None
        outbound = (await _peer_stats(client.room)).get("outbound")
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        await client.disconnect()
    errors += client.errors
    video = next((s for s in client.video.values() if s.participant == PEER), None)
    audio = next((s for s in client.audio.values() if s.participant == PEER), None)
    received = None
    first_frame_ms = None
    if video is not None:
        if video.first_frame_at is not None:
            first_frame_ms = round(1000.0 * (video.first_frame_at - started), 1)
        reads = checked[video.track_sid]
        received = {"frames": video.frames, "fps": round(video.fps(), 2),
                    "size": f"{video.width}x{video.height}",
                    "pattern_decoded_ratio": round(video.decoded / reads, 4) if reads else None,
                    "latency_median_ms": video.median_latency_ms}
    return {"joined": join_ms is not None, "join_ms": join_ms, "first_frame_ms": first_frame_ms,
            "first_frame_clock": "from the connect call", "received": received,
            "audio_seconds": round(audio.samples / 48000, 2) if audio else None,
            "outbound": outbound, "errors": errors,
            "versions": {"livekit": metadata.version("livekit")}}


HOOK_FIRST_FRAME_JS = """() => {
  const records = [];
  window.__benchFirstFrames = records;
  const hook = (el) => {
    if (!(el instanceof HTMLVideoElement)) return;
    const rec = { trackSid: el.dataset.trackSid ?? null, attached: performance.now(),
                  loadeddata: null, presented: null };
    records.push(rec);
    el.addEventListener('loadeddata', () => {
      if (rec.loadeddata === null) rec.loadeddata = performance.now();
    }, { once: true });
    if (typeof el.requestVideoFrameCallback === 'function') {
      el.requestVideoFrameCallback((now, meta) => {
        rec.presented = meta.presentationTime ?? now;
      });
    }
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const node of m.addedNodes) hook(node);
  }).observe(document.getElementById('remote-media'), { childList: true });
  return true;
}"""


async def role_chromium(args: argparse.Namespace) -> dict[str, Any]:
    from tests.support.browser import BrowserParticipant

    errors: list[str] = []
    out: dict[str, Any] = {"joined": False, "join_ms": None, "first_frame_ms": None,
                           "received": None, "errors": errors}
    async with BrowserParticipant("bench") as browser:
        info = await browser.info()
        out["versions"] = {"livekit-client": info.get("version"),
                           "user_agent": info.get("userAgent")}
        await browser.page.evaluate(HOOK_FIRST_FRAME_JS)
        try:
            await browser.join(args.url, args.token, log_level="warn")
            out["joined"] = True
            await browser.publish_camera(width=WIDTH, height=HEIGHT, fps=FPS, simulcast=False)
            await browser.publish_microphone(TONE_HZ)
            await asyncio.sleep(args.duration)
            events = await browser.events()
            connecting = next((e["t"] for e in events if e["event"] == "harness.connecting"),
                              None)
            connected = next((e["t"] for e in events if e["event"] == "harness.connected"), None)
            if connecting is not None and connected is not None:
                out["join_ms"] = round(connected - connecting, 1)
            frames = await browser.page.evaluate("window.__benchFirstFrames")
            now = await browser.page.evaluate("performance.now()")
            remote = await browser.remote_stats()
            local = await browser.stats()
            video = next((r for r in remote if r["kind"] == "video"
                          and r["participantIdentity"] == PEER), None)
            first = next((f for f in frames if video and f["trackSid"] == video["trackSid"]),
                         frames[0] if frames else None)
            if first is not None and connecting is not None:
                moment = first["presented"] if first["presented"] is not None \
                    else first["loadeddata"]
                out["first_frame_clock"] = ("from room.connect() in the page to the first "
                                            "frame presented (requestVideoFrameCallback's "
                                            "presentationTime)" if first["presented"] is not None
                                            else "from room.connect() to 'loadeddata'")
                if moment is not None:
                    out["first_frame_ms"] = round(moment - connecting, 1)
                    if video and video["inbound"]:
                        rtp = video["inbound"][0]
                        span_s = (now - moment) / 1000.0
                        out["received"] = {
                            "frames": rtp["framesDecoded"],
                            "fps": round((rtp["framesDecoded"] - 1) / span_s, 2)
                            if span_s > 0 else None,
                            "size": f"{rtp['frameWidth']}x{rtp['frameHeight']}",
                            "decoder": rtp.get("decoderImplementation"),
                        }
            camera = next((e for e in local if e["kind"] == "video"), None)
            if camera and camera["outbound"]:
                rtp = camera["outbound"][0]
                out["outbound"] = {
                    "frames_encoded": rtp["framesEncoded"], "frame_width": rtp["frameWidth"],
                    "frame_height": rtp["frameHeight"],
                    "quality_limitation": rtp.get("qualityLimitationReason"),
                    "encoder": rtp.get("encoderImplementation"),
                }
            await browser.leave()
        except Exception as exc:
            errors.append(repr(exc))
            errors.append(browser.console_text()[-1500:])
    return out


def run_role(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.role == "peer":
        return asyncio.run(role_peer(args))
    runner: Callable[[argparse.Namespace], Any] = role_sdk if args.role == "sdk" \
        else role_chromium
    report = asyncio.run(runner(args))
    text = json.dumps(report, indent=2)
    if args.report:
        Path(args.report).write_text(text + "\n")
    else:
        print(text)
    return 0 if report.get("joined") and not report.get("errors") else 1


# ---------------------------------------------------------------------------------------------


def _candidates(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [k for k in kinds if k not in CANDIDATES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown candidates {unknown}; known: {CANDIDATES}")
    return kinds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds each candidate stays in the room publishing (default 30)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="the window starts this long after the candidate's video is "
                        "published (default 5; 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10 s per candidate, a 5 s profile")
    parser.add_argument("--skip-browser", action="store_true", help="no Chromium candidate")
    parser.add_argument("--candidates", type=_candidates, default=list(CANDIDATES),
                        help="which to run, comma-separated, in order (default "
                        f"{','.join(CANDIDATES)}; an empty string: the profile only)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--profile-s", type=float, default=None,
                        help="seconds of py-spy sampling (default 10; 5 with --quick)")
    parser.add_argument("--profile-native", action="store_true",
                        help="py-spy --native: C frames too; it must pause the process at "
                        "every sample, which slows it down a lot")
    parser.add_argument("--profile-raw", metavar="FILE",
                        help="also write py-spy's raw stacks there (flamegraph.pl input)")
    parser.add_argument("--top", type=int, default=15, help="profile rows to list (default 15)")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"JSON output (default {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    internal = parser.add_argument_group("internal (the subprocesses this bench starts)")
    internal.add_argument("--role", choices=("peer", "sdk", "chromium"), help=argparse.SUPPRESS)
    internal.add_argument("--url", help=argparse.SUPPRESS)
    internal.add_argument("--token", help=argparse.SUPPRESS)
    internal.add_argument("--report", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.role:
        return run_role(args)
    if not Path("/proc/self/smaps_rollup").exists():
        print("bench/join.py needs Linux /proc (smaps_rollup)", file=sys.stderr)
        return 2
    if args.quick:
        args.duration = 10.0
    if args.warmup is None:
        args.warmup = 3.0 if args.quick else 5.0
    if args.profile_s is None:
        args.profile_s = 5.0 if args.quick else 10.0
    if args.duration - args.warmup - LEAVE_MARGIN_S < 2.0:
        print("--duration must exceed --warmup by at least 3.5 s", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    report = asyncio.run(main_async(args))
    return write_report(report, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
