"""The load test's browser clients: headless Chromium pages that draw on the Draw page with the mouse.

Each person is a Playwright page: the pen moves at --stroke-speed px/s with mouse events at 60 Hz,
and the time to the answer is taken inside the page, from the mouse button going up to the frame
after the answer is on screen.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from load_people import Person, new_results, open_then_draw, stroke_path

PROMPT = "Draw a digit on the canvas."  # the Draw page's text while its canvas is empty
VIEWPORT = {"width": 1200, "height": 900}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
# Timed inside the page, on the page's own clock: from the mouse button going up to the first
# animation frame after the prediction is in the DOM. (Timing it from here with Playwright's
# wait_for adds its polling interval, up to 500 ms, to every figure.)
ARM_TIMER = """() => {
  window.__lifted = null;
  window.addEventListener('mouseup', () => { window.__lifted = performance.now(); }, {capture: true, once: true});
  window.__shown = new Promise(resolve => {
    const seen = () => {
      if (!document.querySelector('.digit')) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - window.__lifted));
    };
    const observer = new MutationObserver(seen);
    observer.observe(document.body, {childList: true, subtree: true});
    seen();
  });
}"""
# What a person would see when a drawing got no answer, for the error report.
PAGE_STATE = """() => {
  const status = document.querySelector('[data-testid=stStatusWidget]');
  const lower = document.querySelector('canvas.lower-canvas');
  let ink = 'no canvas';
  if (lower) {  // is the stroke on the canvas? (if so, its value went missing on the way)
    const d = lower.getContext('2d').getImageData(0, 0, lower.width, lower.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) n += d[i] > 128;
    ink = n + ' ink pixels on the canvas';
  }
  return [document.querySelector('.digit') ? 'a digit' : 'no digit',
          document.body.innerText.includes('Draw a digit on the canvas.') ? '"Draw a digit"' : '',
          status ? 'status: ' + status.innerText.replace(/\\s+/g, ' ') : '',
          document.querySelector('[data-testid=stConnectionStatus]') ? 'connection status shown' : '',
          ink].filter(Boolean).join(', ');
}"""


@asynccontextmanager
async def chromium(executable: str):
    """A headless Chromium (Debian's, not Playwright's download), closed on the way out."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def open_draw_page(page, url: str, timeout_ms: int = 120_000) -> None:
    await page.goto(f"{url}/draw", timeout=timeout_ms)
    await page.get_by_text(PROMPT).wait_for(timeout=timeout_ms)


async def draw(page, points, speed: float, timeout_ms: int) -> None:
    box = await page.locator("canvas.upper-canvas").first.bounding_box(timeout=timeout_ms)
    await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    await page.mouse.down()
    next_at = time.perf_counter()
    for x, y in stroke_path(points, speed):
        if speed > 0:
            next_at += 1 / 60
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await page.mouse.move(box["x"] + x, box["y"] + y)
    await page.mouse.up()


async def draw_and_wait(page, points, speed: float, timeout_ms: int) -> float:
    """Draws a digit; seconds from the mouse button going up to its answer on screen."""
    await page.evaluate(ARM_TIMER)
    await draw(page, points, speed, timeout_ms)
    return await asyncio.wait_for(page.evaluate("window.__shown"), timeout_ms / 1000) / 1000


async def clear(page, timeout_ms: int) -> None:
    """Presses Clear and waits for the fresh canvas (the old one leaves the page)."""
    old = await page.locator("canvas.upper-canvas").first.element_handle(timeout=timeout_ms)
    await page.get_by_role("button", name="Clear").click(timeout=timeout_ms)
    await page.get_by_text(PROMPT).wait_for(timeout=timeout_ms)
    await page.wait_for_function("e => !e.isConnected", arg=old, timeout=timeout_ms)


async def page_state(page) -> str:
    """What a person would see when a drawing got no answer, for the error report."""
    try:
        return await asyncio.wait_for(page.evaluate(PAGE_STATE), 5)
    except Exception as e:
        return f"unreadable ({type(e).__name__})"


class BrowserPerson(Person):
    """A person with a Chromium page, drawing with the mouse."""

    def __init__(self, browser, url: str, args, results: dict):
        super().__init__(args, results)
        self.browser, self.url = browser, url
        self.timeout_ms = int(args.timeout * 1000)
        self.page = None

    async def open(self, left: int | None = None) -> bool:
        self.page = await self.browser.new_page(viewport=VIEWPORT)  # not part of the time to open
        return await super().open(left)

    async def _connect(self) -> None:
        await open_draw_page(self.page, self.url)

    def _open_error(self, e: Exception) -> str:
        return f"page did not open: {type(e).__name__}"

    async def _draw(self, digit: str, points) -> float:
        return await draw_and_wait(self.page, points, self.args.stroke_speed, self.timeout_ms)

    async def _clear(self) -> None:
        await clear(self.page, self.timeout_ms)

    async def _drawing_error(self, e: Exception) -> str:
        return f"{(str(e).splitlines() or [''])[0][:150]} (page shows: {await page_state(self.page)})"

    async def _reopen(self, left: int) -> bool:
        """Reloads the Draw page in the same tab (not timed as an open)."""
        try:
            await open_draw_page(self.page, self.url, self.timeout_ms)
        except Exception as e:
            self.results["errors"].extend([f"page did not reopen: {type(e).__name__}"] * left)
            return False
        return True


async def drive(url: str, n: int, args, on_all_open=None) -> dict:
    """All N pages open at once (as when a presenter says "open the link"), then all draw."""
    results = new_results()
    async with chromium(args.chromium) as browser:
        await open_then_draw([BrowserPerson(browser, url, args, results) for _ in range(n)], results, on_all_open)
    return results
