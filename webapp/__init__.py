"""The Streamlit app around the digits library.

Page X is `pages/X.py` (a thin script: widgets, one library call, rendering) + `webapp/X.py` (its
sections, where it has them) + `webapp/pictures/X.py` (its figures and HTML, built from numbers;
nothing in `webapp/pictures/` imports Streamlit). What every page shares: `navigation` (the page list),
`resources` (folders, device, test set, checkpoints), `sidebar`, `address` (the room's URL),
`presenter` (the key for room-wide actions) and `text` (outside text made safe for markdown).
"""
