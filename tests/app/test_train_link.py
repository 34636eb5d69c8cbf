"""The Train page's settings in a link (digits.config_link): a presenter's Share puts them in the address, a link
opens the form set up the same way, and what a link could not set is said in one line. Through AppTest."""

from tests.app.apptest import open_page, shown


def info(at) -> str:
    return " ".join(shown(i.value) for i in at.info)


def test_a_link_sets_the_form_and_says_what_it_could_not(app):
    app.query_params.update({"model": "cnn", "epochs": "3", "lr": "nan", "optimizer": "<b>x</b>", "start_from": "/etc"})
    at = open_page(app, "train")
    assert at.selectbox(key="cfg_model").value == "cnn" and at.number_input(key="cfg_epochs").value == 3
    said = info(at)
    assert "Settings from the link: Architecture Small CNN, Epochs 3." in said
    assert "Left at their defaults (not valid in a link): lr='nan'; optimizer='<b>x</b>'; 'start_from' is not a " \
           "setting." in said
    assert all("<b>" not in i.proto.body or "&lt;b&gt;" in i.proto.body for i in at.info)  # shown as text
    at.number_input(key="cfg_epochs").set_value(5).run()
    assert at.number_input(key="cfg_epochs").value == 5 and "from the link" not in info(at)  # set once a link


def test_share_puts_the_forms_settings_in_the_address(app):
    at = open_page(app, "train")
    at.number_input(key="cfg_epochs").set_value(4).run()
    at.button(key="share_link").click().run()
    assert at.session_state["_link"] == {"epochs": "4"}  # what the address now says
    assert "The address bar now opens the Train page with these settings" in info(at)
