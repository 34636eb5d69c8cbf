import inspect

import pandas as pd
import streamlit as st
from torchinfo import summary

import ui
from digits import MODELS, count_parameters

ui.use_app_navigation()

st.title("Model")
path = ui.checkpoint_or_stop()
model, meta = ui.load_model(path)
name = meta["model"]
st.subheader(MODELS[name].description)
info = summary(model, input_size=(1, 1, 28, 28), verbose=0, depth=1, device=ui.device())
rows = [{"layer": f"{l.class_name}-{l.depth_index}", "output shape": str([-1, *l.output_size[1:]]), "parameters": l.num_params}
        for l in info.summary_list if l.depth == 1]
st.table(pd.DataFrame(rows).set_index("layer"))
params = count_parameters(model)
c = st.columns(3)
c[0].metric("Parameters", f"{params:,}")
c[1].metric("Size (float32)", f"{params * 4 / 1024:.0f} KB")
c[2].metric("Test accuracy", f"{meta['metrics']['test_acc']:.2%}" if meta.get("metrics", {}).get("test_acc") is not None else "–")
with st.expander("Architecture (from the class docstring)"):
    st.markdown(inspect.cleandoc(type(model).__doc__).split("\n", 2)[2])
with st.expander("How this checkpoint was made"):
    st.json({"command": meta.get("command"), "config": meta.get("config"), "metrics": meta.get("metrics"), "created": meta.get("created")})
