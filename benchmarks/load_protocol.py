"""The load test's protocol clients: websocket sessions that replay what a real page sends.

One real Chromium page draws each digit and presses Clear while its websocket messages are
recorded (`capture_messages`); then N sessions replay them at a person's pace. No browser on the
server's CPUs: the time is from a drawing's message going out to the answer's element coming back
(no 200 ms canvas debounce, no rendering).
"""

from __future__ import annotations

import asyncio
import time

from load_browser import VIEWPORT, chromium, clear, draw_and_wait, open_draw_page
from load_people import STROKES, Person, new_results, open_then_draw, stroke_path


async def capture_messages(url: str, args) -> dict:
    """What a real page sends: open the Draw page in Chromium, draw each digit, Clear after each.

    Returns the page's websocket messages (Streamlit BackMsg bytes): the first run, one rerun per
    drawn digit (the canvas's own value: its drawing and PNG) and one per Clear. The canvas's widget
    id changes with every Clear, so ProtocolPerson._run puts the session's current one in.
    """
    sent = []
    async with chromium(args.chromium) as browser:
        page = await browser.new_page(viewport=VIEWPORT)
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
        await open_draw_page(page, url)
        captured = {"open": sent[-1], "draw": {}, "clear": None}
        for digit, points in STROKES.items():
            await draw_and_wait(page, points, 0, 30_000)
            captured["draw"][digit] = sent[-1]
            await clear(page, 30_000)
            captured["clear"] = sent[-1]
    return captured


class ProtocolPerson(Person):
    """One participant as the server sees them: a websocket session that sends what the page sends.

    No browser: it measures the server alone, from the drawing's message going out to the message
    with the answer coming back, at the same pace as a browser person (time to draw, reading, Clear).
    """

    def __init__(self, url: str, captured: dict, args, results: dict):
        super().__init__(args, results)
        self.url, self.captured = url, captured
        self.ws, self.canvas_id = None, None

    async def _run(self, message: bytes, wait_for_digit: bool = False) -> float | None:
        """Sends one rerun and reads until the run ends; seconds until the answer's element, if asked."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg.FromString(message)
        for widget in back.rerun_script.widget_states.widgets:
            if "-canvas-" in widget.id:
                widget.id = self.canvas_id
        started, shown, problems = time.perf_counter(), None, []
        await self.ws.send(back.SerializeToString())
        while True:
            msg = ForwardMsg.FromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                which = element.WhichOneof("type")
                if which == "bidi_component" and "-canvas-" in element.bidi_component.id:
                    self.canvas_id = element.bidi_component.id
                elif (which in ("html", "markdown") and "class='digit'" in getattr(element, which).body
                      and shown is None):
                    shown = time.perf_counter() - started
                elif which == "exception":
                    problems.append(f"exception: {element.exception.message[:120]}")
            elif kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                break  # (a run that ends in st.rerun() goes on with the next run)
        if problems:
            raise RuntimeError("; ".join(problems))
        if wait_for_digit and shown is None:
            raise RuntimeError("the run ended without an answer")
        return shown

    async def _connect(self) -> None:
        """Connects and runs the page once."""
        import websockets

        self.ws = await websockets.connect(self.url.replace("http", "ws", 1) + "/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None)
        await asyncio.wait_for(self._run(self.captured["open"]), self.args.timeout)

    def _open_error(self, e: Exception) -> str:
        return f"session did not open: {type(e).__name__}: {e}"

    async def _draw(self, digit: str, points) -> float:
        if self.args.stroke_speed > 0:  # as long as drawing it takes
            await asyncio.sleep(sum(1 for _ in stroke_path(points, self.args.stroke_speed)) / 60)
        return await asyncio.wait_for(self._run(self.captured["draw"][digit], True), self.args.timeout)

    async def _clear(self) -> None:
        await asyncio.wait_for(self._run(self.captured["clear"]), self.args.timeout)

    async def _drawing_error(self, e: Exception) -> str:
        return str(e)

    async def _reopen(self, left: int) -> bool:
        """A new session (timed as an open, as the first one)."""
        await self.ws.close()
        return await self.open(left)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def drive(url: str, n: int, args, captured: dict, on_all_open=None) -> dict:
    """All N sessions open at once, then all replay their drawings."""
    results = new_results()
    await open_then_draw([ProtocolPerson(url, captured, args, results) for _ in range(n)], results, on_all_open)
    return results
