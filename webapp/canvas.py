"""The drawing canvas's one fix: streamlit-drawable-canvas (0.13) keeps its toolbar (undo, redo, clear, download)
invisible over the canvas's top right corner until a mouse hovers the canvas. A finger has no hover, so on a phone a
stroke that starts in that corner lands on the invisible toolbar and draws nothing. The component draws inside an
open shadow root of its own, which the page's CSS cannot reach: this script puts one rule there, hiding the toolbar
on devices without hover (the Draw page's own Clear button stays). Nothing from outside goes into it."""

from __future__ import annotations

import streamlit as st

RULE = "@media (hover: none), (any-pointer: coarse) { .dc-toolbar { display: none !important; } }"  # touch laptops too
SCRIPT = f"""<script>
(() => {{
  if (window.digitsCanvasFix) return;  // once a page: every run of the Draw page renders this element again
  window.digitsCanvasFix = true;
  const fix = (root) => {{
    if (root.querySelector(".dc-toolbar") && !root.querySelector("style[data-digits-canvas]")) {{
      const style = document.createElement("style");
      style.setAttribute("data-digits-canvas", "");
      style.textContent = "{RULE}";
      root.appendChild(style);
    }}
  }};
  // A page's observer does not see into a shadow root: each canvas's root gets one of its own, once.
  let retries = 0;
  const watch = () => {{
    let waiting = false;
    document.querySelectorAll("[data-testid=stBidiComponentIsolated]").forEach((host) => {{
      const root = host.shadowRoot;
      if (!root) {{ waiting = true; return; }}  // its host is there, its root not yet attached
      if (root.digitsWatched) return;
      root.digitsWatched = true;
      fix(root);
      new MutationObserver(() => fix(root)).observe(root, {{childList: true, subtree: true}});
    }});
    retries = waiting ? retries + 1 : 0;
    if (waiting && retries < 50) setTimeout(watch, 100);  // a few seconds at most, then the page's next change
  }};
  watch();
  new MutationObserver(watch).observe(document.body, {{childList: true, subtree: true}});
}})();
</script>"""


def toolbar_fix() -> None:
    """Render the script (no visible element); call it on a page with a canvas."""
    st.html(SCRIPT, unsafe_allow_javascript=True, width="content")
