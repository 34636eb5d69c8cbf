"""What the tests and the benchmarks share, so that neither imports the other: `served` starts a real
`streamlit run app.py` on a free port and drives Debian's Chromium (waiting for a page, drawing strokes)."""
