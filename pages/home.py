import html

import streamlit as st

from webapp import address, navigation, presenter, resources
from webapp.pictures import home as pictures

navigation.use_app_navigation()

st.title(":material/draw: digits")
st.markdown("Handwritten-digit classifiers on **MNIST**: draw for one, train your own and watch it learn, "
            "then look at what it does with your drawing.")

room = address.room_url()
start, join = st.columns([3, 2], gap="large") if room else (st.container(), None)
with start:
    st.subheader("Start here")
    has_inside = any(p.url_path == "inside" for p in navigation.pages())
    steps = [("pages/draw.py", "1 · Draw a digit", ":material/draw:",
              "Works right now: the trained LeNet-5 that ships with the app reads your digit as you draw it, "
              "with a mouse or a finger."),
             ("pages/train.py", "2 · Train your own", ":material/monitoring:",
              "Pick an architecture and a recipe, press Start, and watch loss and accuracy move; a LeNet-5 reaches "
              "about 99% in a few minutes on a laptop.")]
    if has_inside:
        steps.append(("pages/inside.py", "3 · Look inside", ":material/visibility:",
                      "See what each layer of the network computes from your drawing."))
    for page, label, icon, words in steps:
        st.page_link(page, label=label, icon=icon)
        st.caption(words)
    st.markdown("**More:** the model's answers on the 10,000 test images and its mistakes (Predictions), "
                "two loss functions written by hand (Losses), the layer table of a network (Model).")
    st.subheader("Teaching a room")
    st.page_link("pages/room.py", label="The room's drawings", icon=":material/groups:")
    st.caption("Everyone draws and taps whether the answer was right; the Room page shows where the models fail on the "
               "room's own handwriting, and *Fine-tune on the room's drawings* on Train retrains on it. How to serve "
               "the app to a room (its address, the presenter key, how many people): docs/workshop.md in the project.")
    st.caption(f"Running on {resources.device_label()}. The checkpoint chosen in the sidebar is the model every "
               "page uses.")

if join is not None:
    with join:
        # The presenter shows it to the room, big; everyone else gets it small, to pass on.
        big = presenter.presenter_key() is not None and presenter.is_presenter()
        st.subheader("Join from your phone" if not big else "Open this on your phone")
        st.image(pictures.qr_png(room), width=420 if big else 220)
        st.html(f"<p style='font-size:{'34' if big else '20'}px;font-weight:700;word-break:break-all'>"
                f"{html.escape(room)}</p>")
