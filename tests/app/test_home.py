"""The Home page and the sidebar every page shares.
Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""

import io

from PIL import Image

from webapp.pictures import home as home_pictures


def test_home_and_sidebar(app):
    assert app.title[0].value.endswith("digits")
    assert app.sidebar.selectbox(key="checkpoint").value.endswith("cnn.pt")
    assert any("Compute:" in c.value for c in app.sidebar.caption)


def test_a_server_on_the_network_that_only_localhost_may_reach_says_so(app):
    from streamlit import config

    def warnings(address, hosts):
        config.set_option("server.address", address)
        config.set_option("server.allowedHosts", hosts)
        app.run()
        assert not app.exception, app.exception
        return [w.value for w in app.sidebar.warning]

    before = config.get_option("server.address"), config.get_option("server.allowedHosts")
    try:
        assert warnings("localhost", ["localhost", "127.0.0.1", "::1"]) == []
        (warning,) = warnings("0.0.0.0", ["localhost", "127.0.0.1", "::1"])
        assert "The room cannot connect yet" in warning and "--server.allowedHosts" in warning
        assert warnings("0.0.0.0", ["localhost", "192.168.1.20"]) == []
        assert warnings("0.0.0.0", []) == []  # Streamlit then accepts any name
    finally:
        config.set_option("server.address", before[0])
        config.set_option("server.allowedHosts", before[1])


def test_home_says_where_to_start_and_shows_the_rooms_address_when_the_room_can_connect(app):
    from streamlit import config

    assert [link.proto.label for link in app.get("page_link")][:2] == ["1 · Draw a digit", "2 · Train your own"]
    assert "The room's drawings" in [link.proto.label for link in app.get("page_link")]  # and where a room's work shows
    assert any("docs/workshop.md" in c.value for c in app.caption)
    assert not app.get("image")  # listening on this machine only: no room to invite
    before = config.get_option("server.address"), config.get_option("server.allowedHosts")
    try:
        config.set_option("server.address", "0.0.0.0")
        config.set_option("server.allowedHosts", ["localhost", "192.168.1.20"])
        app.run()
        assert not app.exception
        assert any("http://192.168.1.20:" in h.proto.body for h in app.get("html"))
        assert app.get("image")  # its QR code
    finally:
        config.set_option("server.address", before[0])
        config.set_option("server.allowedHosts", before[1])


def test_the_qr_code_reads_back_as_the_address():
    import segno


    png = home_pictures.qr_png("http://192.168.1.20:8501")
    assert png.startswith(b"\x89PNG")
    code = segno.make("http://192.168.1.20:8501", error="m")
    # 12 px a module, quiet zone included
    assert Image.open(io.BytesIO(png)).size[0] == 12 * (code.symbol_size(scale=1)[0])

