import streamlit as st

import ui

ui.use_app_navigation()

st.title(":material/draw: digits")
st.markdown(
    "Train handwritten-digit classifiers on **MNIST**, watch them learn live, and see what they make "
    "of your own drawings."
)
c1, c2, c3 = st.columns(3)
with c1:
    st.subheader("Train")
    st.write("Pick LeNet-5 or the small CNN, set the recipe, press Start, and watch loss and accuracy move.")
    st.page_link("pages/train.py", label="Train a model", icon=":material/monitoring:")
with c2:
    st.subheader("Predictions")
    st.write("Browse the 10,000 test images with the model's answer, the mistakes, and the confusion matrix.")
    st.page_link("pages/predictions.py", label="Browse predictions", icon=":material/grid_view:")
with c3:
    st.subheader("Draw")
    st.write("Draw a digit with the mouse and see what the network reads, with its probabilities.")
    st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
st.divider()
st.markdown(
    "**Losses** compares a hand-written cross-entropy with PyTorch's and shows the multiclass SVM loss. "
    "**Model** shows the layer table of the chosen network."
)
st.caption(f"Running on {ui.device_label()}. The model chosen in the sidebar is used on every page.")
