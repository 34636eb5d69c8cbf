"""Text from files and people, made safe to show in Streamlit's markdown."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def plain(text) -> str:
    """Text from outside (a file name, a reason naming a file, a value from a run folder) made safe to show
    inside Streamlit markdown: one line, every markdown character escaped, so a link or an image in a
    file never becomes one on a page (st.markdown, st.error, st.caption all render markdown)."""
    # A colon is followed by a zero-width space as well: Streamlit turns :name: into an emoji or icon even
    # with its colons escaped.
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split())).replace("\\:", "\\:\u200b")
