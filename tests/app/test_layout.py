"""The app's shape: the library never imports the app or Streamlit, the pictures never import Streamlit or
the app's Streamlit helpers, and pages reach the library and the app package only."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    """Top-level names of every module `path` imports, at module level or inside a function ("." for its own
    package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or "") if node.level else node.module)
    return names


def top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names if not n.startswith(".")}


def test_the_library_never_imports_streamlit_or_the_app():
    for path in sorted((ROOT / "digits").glob("*.py")):
        assert not top(imported(path)) & {"streamlit", "webapp", "pages", "app", "testkit"}, path.name


def test_the_pictures_never_import_streamlit_or_the_apps_streamlit_helpers():
    for path in sorted((ROOT / "webapp" / "pictures").glob("*.py")):
        names = imported(path)
        assert "streamlit" not in top(names), path.name
        assert all(n.startswith("webapp.pictures") for n in names if n.startswith("webapp")), path.name


def test_pages_reach_the_library_and_the_app_package_only():
    ours = {"digits", "webapp"}
    for path in sorted((ROOT / "pages").glob("*.py")):
        local = {n for n in top(imported(path)) if (ROOT / n).is_dir() or (ROOT / f"{n}.py").exists()}
        assert local <= ours, (path.name, local - ours)


def test_a_module_that_imported_streamlit_into_the_pictures_would_be_seen(tmp_path):
    sneaky = tmp_path / "chart.py"
    sneaky.write_text("def f():\n    import streamlit as st\n    from webapp import resources\n")
    assert "streamlit" in top(imported(sneaky)) and "webapp" in top(imported(sneaky))


def test_the_root_holds_app_py_and_no_other_python_file():
    assert sorted(p.name for p in ROOT.glob("*.py")) == ["app.py"]


def app_modules_imported(path: Path) -> set[str]:
    """The webapp modules a file imports: `from webapp import x`, `from webapp.x import y`, `import webapp.x`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "webapp":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("webapp."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("webapp.")}
    return found


def test_the_app_package_has_no_import_cycle():
    graph = {p.stem: app_modules_imported(p) - {p.stem} for p in (ROOT / "webapp").glob("*.py")}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), set()) - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert [name for name in sorted(graph) if name in reachable(name)] == []
