"""digits: `streamlit run app.py`. The navigation (webapp.navigation) and the shared sidebar; pages do the rest."""

import streamlit as st
import torch

from webapp import navigation, resources, sidebar

# One CPU thread for the server's torch. Its work is one drawing at a time for many people: a 28×28
# image is too small to split across cores, and a split forward pass waits, at every layer, for a
# second core that a busy server does not have free (80–130 ms a drawing instead of 2 ms, measured
# with 20 pages drawing). The Predictions page's one pass over the test set is cached per checkpoint.
torch.set_num_threads(1)

# The tab icon is a file served by this server: a Material icon name would make every browser fetch it
# from fonts.gstatic.com (a failed request on every page where there is no internet).
st.set_page_config(page_title="digits · MNIST", page_icon=str(resources.ROOT / "assets" / "favicon.png"), layout="wide")

page = navigation.navigation()
sidebar.sidebar()
page.run()
