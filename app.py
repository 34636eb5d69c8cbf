"""digits: `streamlit run app.py`. The navigation (ui.pages) and the shared sidebar; pages do the rest."""

import streamlit as st

import ui

st.set_page_config(page_title="digits · MNIST", page_icon=":material/draw:", layout="wide")

page = ui.navigation()
ui.sidebar()
page.run()
