"""The app's figures and HTML: plotly charts, PNG pictures and small HTML built from numbers. No Streamlit
here (a test checks it): each module draws for the page of its name, `layout` and `images` for several."""
