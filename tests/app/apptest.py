"""What the page tests share: reading what a page shows, its buttons, the room's store."""

import base64
import io
import re
from contextlib import closing

import numpy as np
import torch
from PIL import Image
from streamlit.runtime.pages_manager import PagesManager

from webapp import resources

APP = str(resources.ROOT / "app.py")
STREAMLIT_INIT = PagesManager.__init__


def shown(markdown: str) -> str:
    """The text a person sees of markdown that text.plain escaped."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")  # the zero-width spaces text.plain adds


def start_button(at):
    """The Train page's Start button (the fine-tune button comes before it)."""
    (button,) = [b for b in at.button if b.label.endswith("Start training")]
    return button


def open_page(at, page):
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def canvas_value(image: np.ndarray) -> dict:
    """What the canvas component sends back: its Fabric JSON and a PNG data URL of the drawing."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return {"drawing": {"raw": {"objects": [{"type": "path"}], "background": "#000000"}, "data": url},
            "backgroundFit": None}


def inside_layers(at) -> list[str]:
    """The layer names the Inside page shows in its activation rows, in order."""
    return [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**") and "  \n" in m.value]


def _unescaped_links(at) -> list[str]:
    """Markdown on the page that would render a link or an image (an unescaped ']('), with its text."""
    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success") for e in at.get(kind)]
    return [t for t in texts if isinstance(t, str) and re.search(r"(?<!\\)\]\(", t)]


def room_store(tmp_path, model, items):
    """Store (pixels, label, session, model name) items; the predictions of `model` as the Room page reads them
    (the network alone, one view: digits.room_answers)."""
    from digits import drawings
    from digits.data import Split
    from digits.evaluate import logits_of

    with closing(drawings.connect(tmp_path / "drawings.sqlite")) as db:
        ids = [drawings.add(db, pixels, label, session, png=b"\x89PNG", model=name)
               for pixels, label, session, name in items]
    images = torch.from_numpy(np.stack([pixels for pixels, *_ in items]))
    return ids, logits_of(model, Split(images, torch.zeros(len(images), dtype=torch.int64))).argmax(1).tolist()


def gallery(at) -> tuple[list[int], list[int]]:
    """(ids shown, ids marked wrong) in the Room page's gallery."""
    (body,) = [h.proto.body for h in at.get("html") if "class='gallery'" in h.proto.body]
    return ([int(i) for i in re.findall(r"alt='drawing (\d+)'", body)],
            [int(i) for i in re.findall(r"class='tile wrong'.*?alt='drawing (\d+)'", body)])



def run_selector(at):
    """The Train page's Run selector (its key follows the chosen run's words: webapp.train.run_select)."""
    (select,) = [s for s in at.selectbox if s.label == "Run"]
    return select
