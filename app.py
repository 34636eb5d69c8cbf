"""digits: `streamlit run app.py`. Builds the navigation and the shared sidebar; pages do the rest."""

import streamlit as st

import ui

ui.mark_app_run()
st.set_page_config(page_title="digits · MNIST", page_icon=":material/draw:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/monitoring:"),
    st.Page("pages/predictions.py", title="Predictions", icon=":material/grid_view:"),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("pages/losses.py", title="Losses", icon=":material/functions:"),
    st.Page("pages/model.py", title="Model", icon=":material/account_tree:"),
]
page = st.navigation(pages)
ui.sidebar()
page.run()
