"""Checkpoints every page lists: broken and hostile files on disk.
Through Streamlit's AppTest: real scripts, real widgets, a real checkpoint on disk."""



from tests.app.apptest import _unescaped_links, open_page, run_selector, shown
from tests.helpers import draw_digit
from webapp import resources


def test_a_broken_checkpoint_is_listed_with_its_reason_and_pages_keep_working(app):
    good = resources.CHECKPOINTS / "cnn.pt"
    (resources.CHECKPOINTS / "truncated.pt").write_bytes(good.read_bytes()[:3000])
    (resources.CHECKPOINTS / "notes.pt").write_text("not a checkpoint")
    for page in ("home", "predictions", "draw", "losses", "model"):
        at = open_page(app, page)
        assert at.sidebar.expander[0].label == "⚠ 2 unusable checkpoint files"
        reasons = " ".join(shown(c.value) for c in at.sidebar.expander[0].caption)
        assert "truncated.pt: not a loadable checkpoint" in reasons and "notes.pt" in reasons
        assert at.sidebar.selectbox(key="checkpoint").options == [resources.checkpoint_label(good)]


def test_every_page_renders_with_the_whole_hostile_corpus_on_disk(app):
    from tests.hostile import LEAK, hostile_checkpoints, hostile_runs

    hostile_checkpoints(resources.CHECKPOINTS)
    runs = hostile_runs(resources.RUNS, long_line_mb=1)
    for page in ("home", "train", "predictions", "draw", "room", "inside", "losses", "model"):
        at = open_page(app, page)
        assert not _unescaped_links(at), page
        reasons = " ".join(shown(c.value) for c in at.sidebar.expander[0].caption)
        assert ("test-acc-text.pt: metrics.test_acc must be a number" in reasons
                and str(resources.CHECKPOINTS) not in reasons)
    at = open_page(app, "train")
    for name in runs:
        run_selector(at).set_value(name).run()
        assert not at.exception, name
        assert not _unescaped_links(at), name
    run_selector(at).set_value("20261101-000005-markdown-message").run()
    assert any(LEAK in shown(e.value) for e in at.error)  # the message is shown, as text
    # The Inside page steps through a run folder's snapshots: only plain files count, bad ones are a message.
    at = open_page(at, "inside")
    at.session_state["drawing"] = draw_digit("ring")
    at.segmented_control(key="inside_source").set_value("run").run()
    at.selectbox(key="inside_run").set_value("20261101-000018-snapshots").run()
    slider = at.select_slider(key="inside_snapshot-20261101-000018-snapshots")
    assert slider.options == ["iteration 100", "iteration 250", "iteration 300"]  # plain files only: no link, no folder
    for i in range(len(slider.options)):
        at.select_slider(key="inside_snapshot-20261101-000018-snapshots").set_value(i).run()
        assert not at.exception and not _unescaped_links(at)
    # Every usable checkpoint of the corpus opens on the Model page.
    for path in resources.valid_checkpoints():
        at.session_state["open_checkpoint"] = str(path)
        open_page(at, "model")

