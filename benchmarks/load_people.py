"""What each person in the load test does, and at what pace, whichever client plays them.

A person opens the Draw page, then draws a digit, waits for the answer, reads it (--think s),
presses Clear, and draws the next. `Person` holds that routine and its bookkeeping once;
load_browser.BrowserPerson and load_protocol.ProtocolPerson say how one step is done.
"""

from __future__ import annotations

import asyncio
import random
import time

STROKES = {  # canvas pixels (280×280)
    "1": [(140, 50), (140, 230)],
    "7": [(80, 60), (200, 60), (120, 235)],
    "0": [(140, 45), (95, 75), (80, 140), (95, 205), (140, 235), (185, 205), (200, 140), (185, 75), (140, 45)],
}
AFTER_CLEAR_S = 0.5  # from the fresh canvas appearing to the pen going down


def stroke_path(points, speed: float):
    """Mouse positions along the polyline, one per 1/60 s at `speed` px/s (a mouse reports ~60 Hz)."""
    if speed <= 0:  # as fast as Playwright sends them: 6 events a segment, no pause
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for k in range(1, 7):
                yield x0 + (x1 - x0) * k / 6, y0 + (y1 - y0) * k / 6
        return
    step = speed / 60
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, round(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / step))
        for k in range(1, n + 1):
            yield x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n


def new_results() -> dict:
    """What the people of one row fill in: seconds to open, seconds to each answer, error lines."""
    return {"open": [], "latencies": [], "errors": []}


class Person:
    """One participant: opens the Draw page, then draws, reads the answer, clears, draws again.

    The pace and the bookkeeping are here; a client (a browser page, a websocket session) fills in
    the steps below the line: how to open the page, draw one digit, Clear, and reopen after a failure.
    """

    def __init__(self, args, results: dict):
        self.args, self.results = args, results

    async def open(self, left: int | None = None) -> bool:
        """Opens the Draw page, timed; on failure the `left` drawings (all of them at first) count as errors."""
        started = time.perf_counter()
        try:
            await self._connect()
        except Exception as e:
            left = self.args.drawings if left is None else left
            self.results["errors"].extend([self._open_error(e)] * left)
            return False
        self.results["open"].append(time.perf_counter() - started)
        return True

    async def draw_digits(self, rng) -> None:
        await asyncio.sleep(rng.uniform(0, self.args.think))  # people do not start in step
        for i in range(self.args.drawings):
            digit, points = list(STROKES.items())[i % len(STROKES)]
            try:
                self.results["latencies"].append(await self._draw(digit, points))
                await asyncio.sleep(self.args.think)  # reads the answer
                await self._clear()
                await asyncio.sleep(AFTER_CLEAR_S)
            except Exception as e:  # a timeout or a broken page: count it, reopen, go on
                self.results["errors"].append(f"{digit}: {type(e).__name__}: {await self._drawing_error(e)}")
                if not await self._reopen(left=self.args.drawings - i - 1):
                    return

    async def close(self) -> None:
        pass

    # The client's steps.
    async def _connect(self) -> None:
        """Opens the Draw page; raises if it does not open."""
        raise NotImplementedError

    def _open_error(self, e: Exception) -> str:
        raise NotImplementedError

    async def _draw(self, digit: str, points) -> float:
        """Draws one digit; seconds until its answer is back."""
        raise NotImplementedError

    async def _clear(self) -> None:
        raise NotImplementedError

    async def _drawing_error(self, e: Exception) -> str:
        raise NotImplementedError

    async def _reopen(self, left: int) -> bool:
        """After a failed drawing; False (and the `left` drawings counted as errors) if it cannot."""
        raise NotImplementedError


async def open_then_draw(people: list[Person], results: dict, on_all_open=None) -> None:
    """Everyone opens the page at once; when all are in, everyone draws (the timed part: "wall")."""
    opened = await asyncio.gather(*(person.open() for person in people))
    if on_all_open:
        on_all_open()
    started = time.perf_counter()
    rng = random.Random(0)
    await asyncio.gather(*(person.draw_digits(rng) for person, ok in zip(people, opened) if ok))
    results["wall"] = time.perf_counter() - started
    await asyncio.gather(*(person.close() for person in people))
