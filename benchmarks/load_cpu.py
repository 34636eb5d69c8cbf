"""CPU seconds that the load test's processes use while people draw: server, training run, browsers."""

from __future__ import annotations

import os
import threading


class CpuMeter:
    """CPU seconds used, while it runs, by the server, the training run and the browsers (Linux /proc).

    Samples every process below this one twice a second, so processes that end (closed pages) still
    count. "browsers" is Chromium and the Playwright driver: on a real workshop day they are the
    participants' laptops, not the server.
    """

    def __init__(self, server_pid: int, training_pid: int | None):
        self.roots = {server_pid: "server", os.getpid(): "browsers"}
        if training_pid:
            self.roots[training_pid] = "training"
        self.seen: dict[int, tuple[str, float]] = {}
        self.start = self._sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @staticmethod
    def _table() -> dict[int, tuple[int, float]]:
        tick, out = os.sysconf("SC_CLK_TCK"), {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                out[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
        return out

    def _sample(self) -> dict[str, float]:
        table = self._table()
        for pid, (ppid, cpu) in table.items():
            walk, category = pid, None
            while walk > 1 and category is None:
                category = self.roots.get(walk)
                walk = table.get(walk, (0, 0))[0]
            if category is not None:
                self.seen[pid] = (category, cpu)
        totals = dict.fromkeys(["server", "training", "browsers"], 0.0)
        for category, cpu in self.seen.values():
            totals[category] += cpu
        return totals

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        end = self._sample()
        return {k: end[k] - self.start[k] for k in end}

