"""The room's collection end to end, in a real Chromium against a real `streamlit run app.py` with a drawings
store of its own: two browser sessions draw at the same time, each answers with one tap, and the Room page
shows both drawings with the labels they were given. Slow: `pytest -m slow tests/test_browser_room.py`.
Screenshots land in $TMPDIR/digits-room-screenshots/ (outside the repository)."""

import csv
import io
import re
import tempfile
import time
from contextlib import closing
from pathlib import Path

import pytest

from digits import drawings
from testkit.served import DRAWINGS, open_page, stroke, wait_idle

pytestmark = pytest.mark.slow
DESKTOP, PHONE = (1400, 900), (390, 844)
SHOTS = Path(tempfile.gettempdir()) / "digits-room-screenshots"


def in_view(box, size) -> bool:
    return (box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size[1]
            and box["x"] + box["width"] <= size[0])


def pill(page, text: str):
    """One of the answers under the Draw page's answer, by its exact text."""
    return page.locator("[data-testid='stButtonGroup'] button").filter(
        has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def test_two_sessions_answer_at_once_and_the_room_shows_both(server, browser, drawings_file):
    """Two people, a laptop and a phone, draw and keep at once; the Room page then shows both (one story,
    told in order: longer than most tests)."""
    url, _ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    people = []
    for size, phone, digit in ((DESKTOP, False, "7"), (PHONE, True, "1")):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=phone, has_touch=phone)
        people.append((context, context.new_page(), size, phone, digit))
    try:
        for _, page, *_ in people:
            open_page(page, url, "draw", "Draw a digit")
            page.get_by_text("Draw a digit on the canvas.").first.wait_for(timeout=60_000)
        time.sleep(1)  # the canvases' scripts set up their handlers
        for _, page, _, _, digit in people:  # both strokes before either answer comes back
            for path in DRAWINGS[digit]:
                stroke(page, page.locator("canvas.upper-canvas").first, path)
        for _, page, size, phone, digit in people:
            shown = page.locator(".digit").first
            shown.wait_for(timeout=60_000)
            pill(page, "Not a digit").wait_for(timeout=30_000)
            wait_idle(page)
            assert shown.inner_text().strip() == digit
            assert in_view(shown.bounding_box(), size), shown.bounding_box()  # the answer, without scrolling
            if not phone:
                assert in_view(pill(page, "Not a digit").bounding_box(), size)  # and the answers under it
            for box in (b.bounding_box() for b in page.locator("[data-testid='stButtonGroup'] button").all()):
                assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], box  # in rows, none off to the side
            page.screenshot(path=str(SHOTS / f"draw-{'phone' if phone else 'desktop'}.png"))

        answers = {"7": "3", "1": "Not a digit"}  # the desktop corrects its 7 to a 3; the phone says not a digit
        for _, page, _, phone, digit in people:  # one tap each, one right after the other
            (pill(page, answers[digit]).tap if phone else pill(page, answers[digit]).click)()
        for _, page, _, phone, digit in people:
            page.get_by_text(re.compile(rf"Kept as {'3' if digit == '7' else 'not a digit'} — thank you")).wait_for(
                timeout=30_000)
            wait_idle(page)
            page.screenshot(path=str(SHOTS / f"draw-kept-{'phone' if phone else 'desktop'}.png"))

        with closing(drawings.connect(drawings_file)) as db:
            stored = drawings.drawings(db)
            pngs = [drawings.png(db, d.id) for d in stored]
        assert sorted(d.label for d in stored) == [drawings.NOT_A_DIGIT, 3]
        assert len({d.session for d in stored}) == 2 and all(p and p.startswith(b"\x89PNG") for p in pngs)
        assert {d.label: d.predicted for d in stored} == {3: 7, drawings.NOT_A_DIGIT: 1}

        requested = []
        people[0][1].on("request", lambda r: requested.append(r.url))
        for _, page, _, phone, _ in people:
            open_page(page, url, "room", "The room's drawings")
            tiles = page.locator(".gallery figure")
            tiles.first.wait_for(timeout=60_000)
            wait_idle(page)
            assert tiles.count() == 2
            captions = sorted(t.strip() for t in page.locator(".gallery figcaption b").all_inner_texts())
            assert captions == ["3", "not a digit"]
            assert page.locator(".gallery figure.wrong").count() == 1  # a 3 read as 7
            page.screenshot(path=str(SHOTS / f"room-{'phone' if phone else 'desktop'}.png"))
            page.locator(".gallery").scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"room-gallery-{'phone' if phone else 'desktop'}.png"))
        assert requested and all(u.startswith((url, "data:")) for u in requested)  # tiles are data: URLs

        page = people[0][1]  # the downloads, made when pressed (on the server's own thread)
        page.get_by_text("Download the collection").click()
        files = {}
        for name in (".npz", ".csv"):
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name=re.compile(rf"^\S*\s*{re.escape(name)}:")).click()
            files[name] = Path(download.value.path()).read_bytes()
        images, labels = drawings.read_npz(files[".npz"])
        assert images.shape == (2, 28, 28) and sorted(labels.tolist()) == [drawings.NOT_A_DIGIT, 3]
        csv_rows = list(csv.reader(io.StringIO(files[".csv"].decode(), newline="")))  # every cell quoted
        assert csv_rows[0] == list(drawings.CSV_COLUMNS) and len(csv_rows) == 3
    finally:
        for context, *_ in people:
            context.close()
