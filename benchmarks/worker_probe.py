"""Reports from inside the worker for bench_worker_memory.py, which installs this file as its sitecustomize.

SIGUSR1 starts tracemalloc, and at the next signal lists what was allocated since and is still held.
SIGUSR2 writes a census: glibc's heap (in use and free), Python's small-object arenas, the objects
the collector tracks by type (with the change since the last census), the size of every bounded
cache and the containers that grew most, with where each is kept, so that a cache still filling, a
leak and a fragmented heap can be told apart.
Each report goes to the file named by CB_BENCH_WORKER_REPORT.
"""

import collections
import ctypes
import functools
import gc
import os
import signal
import sys
import tempfile
import traceback
import tracemalloc
from collections.abc import Callable
from typing import IO

MIB = 2**20
LARGE = 1000  # containers at least this long are followed from census to census


def _report(write: Callable[[IO[str]], None]) -> None:
    out = os.environ["CB_BENCH_WORKER_REPORT"]
    with open(out + ".tmp", "w") as handle:
        try:
            write(handle)
        except Exception:  # a signal handler's error would surface in whatever the worker was doing
            handle.write(traceback.format_exc())
    os.replace(out + ".tmp", out)


def _tracemalloc(handle: IO[str]) -> None:
    # The first signal starts tracing (the register's index, built before, is not traced: it would
    # slow the start down many times); the next ones list what was allocated since and is still held.
    if not tracemalloc.is_tracing():
        tracemalloc.start(8)
        handle.write("tracing started\n")
        return
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib.*")]
    )
    held = snapshot.statistics("traceback")
    handle.write(f"allocated since tracing started and still held: {sum(s.size for s in held) / MIB:.1f} MiB; most:\n")
    for stat in held[:10]:
        handle.write(f"  {stat.size / MIB:8.1f} MiB {stat.count:9,}\n")
        for line in stat.traceback.format()[-8:]:
            handle.write(f"      {line}\n")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


_counted: collections.Counter[str] = collections.Counter()  # objects by type at the last census
_sizes: dict[int, int] = {}  # id → length of every large container at the last census
_PYMALLOC_LINES = ("# arenas allocated current", "# bytes in allocated blocks", "# bytes in available blocks", "Total")


def _census(handle: IO[str]) -> None:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    heap = libc.mallinfo2()
    handle.write(
        f"malloc heap {heap.arena / MIB:.0f} MiB ({heap.uordblks / MIB:.0f} in use, {heap.fordblks / MIB:.0f} free),"
        f" mmapped {heap.hblkhd / MIB:.0f} MiB\n"
    )
    with tempfile.TemporaryFile() as stats:  # _debugmallocstats writes to the C stderr
        saved = os.dup(2)
        os.dup2(stats.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        stats.seek(0)
        for line in stats.read().decode().splitlines():
            if line.startswith(_PYMALLOC_LINES):
                handle.write("pymalloc " + " ".join(line.lstrip("# ").split()) + "\n")
            if line.startswith("Total"):
                break  # the small-object allocator's; the other totals are of smaller pools
    objects = gc.get_objects()
    counted = collections.Counter(type(o).__qualname__ for o in objects)
    grown = sorted(counted, key=lambda name: counted[name] - _counted[name], reverse=True)[:8]
    handle.write(f"objects the collector tracks: {len(objects):,}; most grown since the last census:\n  ")
    handle.write(", ".join(f"{name} {counted[name]:,} ({counted[name] - _counted[name]:+,})" for name in grown) + "\n")
    _counted.clear()
    _counted.update(counted)
    caches = []
    for o in objects:
        if isinstance(o, functools._lru_cache_wrapper) and o.cache_info().currsize > 100:
            caches.append(f"{o.__module__}.{o.__qualname__} {o.cache_info().currsize:,}")
        elif type(o).__name__ == "EntityIndex":
            caches.append(f"matcher texts {len(o._by_text):,} (evidence {o._evidence_kept:,}), {len(o):,} entities")
        elif type(o).__name__ == "RecentMessages":
            caches.append(f"live recent {len(o):,} messages ({o._bytes / MIB:.1f} MiB of text)")
    handle.write("caches: " + "; ".join(sorted(caches)) + "\n")
    # Containers that keep growing hold what the collector does not track (strings, numbers); a dict
    # of such things is not tracked either, so the dicts the tracked objects refer to are looked at too.
    containers = [o for o in objects if isinstance(o, (dict, set, list, collections.deque))]
    for start in range(0, len(objects), 10_000):
        referred = gc.get_referents(*objects[start : start + 10_000])
        containers += [r for r in referred if type(r) is dict and not gc.is_tracked(r)]
    # Only the large ones are remembered, so that the census itself holds little.
    sizes = {id(o): len(o) for o in containers if len(o) >= LARGE and o is not _sizes}
    growth = {key: size - _sizes.get(key, 0) for key, size in sizes.items()}
    most = sorted(growth, key=growth.__getitem__, reverse=True)[:6]
    wanted = set(most)
    by_id = {id(o): o for o in containers if id(o) in wanted}
    mine = {id(objects), id(containers), id(sizes), id(growth), id(by_id), id(_sizes)}
    handle.write("containers grown most since the last census:\n")
    for key in most:
        handle.write(f"  {_owner(by_id[key], mine)}: {sizes[key]:,} ({growth[key]:+,})\n")
    _sizes.clear()
    _sizes.update(sizes)


def _owner(container: object, mine: set[int]) -> str:
    """Where a container is kept: an attribute of an object, or a key of a module's or a dict's."""
    for referrer in gc.get_referrers(container):
        if id(referrer) in mine:
            continue
        if isinstance(referrer, functools._lru_cache_wrapper):
            return f"{type(container).__name__} the lru_cache of {referrer.__module__}.{referrer.__qualname__}"
        if isinstance(referrer, dict):
            key = next((k for k, v in referrer.items() if v is container), None)
            if key is not None:
                holder = next((h for h in gc.get_referrers(referrer) if getattr(h, "__dict__", None) is referrer), None)
                if holder is None:
                    return f"{type(container).__name__} in a dict at {key!r}"
                return (
                    f"{type(container).__name__} {getattr(holder, '__name__', None) or type(holder).__qualname__}.{key}"
                )
        attributes = getattr(referrer, "__dict__", {}) if not isinstance(referrer, dict) else {}
        names = [name for name, value in attributes.items() if value is container]
        names += [
            name for name in getattr(type(referrer), "__slots__", ()) if getattr(referrer, name, None) is container
        ]
        if names:
            return f"{type(container).__name__} {type(referrer).__qualname__}.{names[0]}"
    return f"{type(container).__name__} (owner not found)"


with open("/proc/self/cmdline", "rb") as cmdline:
    if b"\0serve\0" in cmdline.read():  # the worker, not the CLI commands run before it
        signal.signal(signal.SIGUSR1, lambda signum, frame: _report(_tracemalloc))
        signal.signal(signal.SIGUSR2, lambda signum, frame: _report(_census))
