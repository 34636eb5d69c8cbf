"""digits: `streamlit run app.py`. The navigation (ui.pages) and the shared sidebar; pages do the rest."""

import streamlit as st

import ui

# The tab icon is a file served by this server: a Material icon name would make every browser fetch it
# from fonts.gstatic.com (a failed request on every page where there is no internet).
st.set_page_config(page_title="digits · MNIST", page_icon=str(ui.ROOT / "assets" / "favicon.png"), layout="wide")

page = ui.navigation()
ui.sidebar()
page.run()
