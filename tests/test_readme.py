"""The README is the front door: short, its links and pictures there, its commands the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PICTURES = ("draw.png", "train.png", "inside.png", "predictions.png")


def local_links(text: str) -> list[str]:
    """Relative link and image targets in markdown and HTML, without their #anchors."""
    found = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    return [t.split("#")[0] for t in found if not re.match(r"[a-z]+:", t) and not t.startswith("#") and t.split("#")[0]]


def test_the_readme_is_at_most_200_lines():
    assert len(README.splitlines()) <= 200


def test_every_relative_link_in_the_readme_and_docs_resolves():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in local_links(doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which is missing"


def test_the_pictures_are_there_and_small():
    sizes = {name: (ROOT / "docs" / "images" / name).stat().st_size for name in PICTURES}
    assert all(f'src="docs/images/{name}"' in README for name in PICTURES)
    assert all((ROOT / "docs" / "images" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in PICTURES)
    assert sum(sizes.values()) <= 1_500_000, sizes


def test_ci_runs_the_readmes_install_and_test_commands():
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ("pip install -r requirements.txt", "pip install -r requirements-dev.txt", "pytest ",
                    "pytest -m slow", "ruff check ."):
        assert re.search(rf"^{re.escape(command)}", README, re.M), command
    assert "-r requirements.txt -r requirements-dev.txt" in ci
    assert re.search(r"^run_pytest -q\s", ci, re.M) and re.search(r"^run_pytest -q -m slow\s", ci, re.M)
    assert re.search(r"^ruff check \.", ci, re.M)
