"""The library's modules form layers (STYLE.md, principle 1): a module imports only from its own layer or
the ones below, and no import cycle exists. Every import counts: at module level and inside functions."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "digits"

# Lowest first. The one-line form (docs/architecture.md):
# mnist, arch, device, process, preprocess, augment, losses, handdrawn → data, drawings, drawings_pg, drawing_files,
# negatives, letterforms, heldout
# → models, room
# → config, config_link, optim, evaluate, inside, events → detector, checkpoint, catalog, uploads → reading, explain,
# robustness, calibration, measure, detector_fit, detector_curve, room_answers, room_view
# → runs, control, snapshots, summary
# → batch_source, keeper, step_log, train
# → serve, export → cli_measure, cli_args, cli → spare → launch
LAYERS = [
    # foundations: MNIST's files, a network as data, devices, processes and locks, a drawing → 28×28,
    # augmentations, losses, drawn digits
    {"mnist", "arch", "device", "process", "preprocess", "augment", "losses", "handdrawn", "drawing_formats"},
    # MNIST, the store, drawings
    {"data", "drawings", "drawings_pg", "drawing_files", "negatives", "letterforms", "heldout"},
    {"models", "room"},                                        # the networks; the room's drawings as splits
    {"config", "config_link", "optim", "evaluate", "inside", "events"},  # a run's settings, measuring, events
    {"detector", "checkpoint", "catalog", "uploads"},          # checkpoints (with the detector's runtime head)
    # reading drawings, measuring them, the room's answers kept
    {"reading", "explain", "robustness", "calibration", "measure", "detector_fit", "detector_curve", "room_answers",
     "room_view"},
    {"runs", "control", "snapshots", "summary"},               # a run folder: its files, pause/stop, snapshots
    {"batch_source", "keeper", "step_log", "train"},           # the training loop and its helpers
    {"serve", "export"},                                       # a hall behind a proxy; a checkpoint taken home
    {"cli_measure", "cli_args", "cli"},                        # the command line
    {"spare", "launch"},                                       # training as a process of its own (runs the CLI)
    {"__init__", "__main__"},                                  # the package's front doors
]
LAYER = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def imports_of(path: Path) -> set[str]:
    """The digits modules a file imports, at any depth: `from . import x`, `from .x import y`,
    `from digits.x import y`, `from digits import x`, `import digits.x`."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or node.module in ("digits",) or (node.module or "").startswith("digits."):
                base = node.module if node.level == 1 else (node.module or "").removeprefix("digits").lstrip(".")
                if base:
                    modules.add(base.split(".")[0])
                else:  # from . import x, y
                    modules.update(a.name for a in node.names if (PACKAGE / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            modules.update(a.name.split(".")[1] for a in node.names if a.name.startswith("digits."))
    return modules - {path.stem}


GRAPH = {p.stem: imports_of(p) for p in sorted(PACKAGE.glob("*.py"))}


def test_every_module_has_a_layer():
    assert set(GRAPH) - set(LAYER) == set(), "put the new module in LAYERS"
    assert set(LAYER) - set(GRAPH) == set(), "a module in LAYERS no longer exists"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_nothing_above_its_layer(module):
    above = sorted(m for m in GRAPH[module] if LAYER.get(m, -1) > LAYER.get(module, -1))
    assert above == [], f"digits.{module} (layer {LAYER.get(module)}) imports from a higher layer: {above}"


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_there_is_no_import_cycle():
    assert cycle(GRAPH) is None, " → ".join(cycle(GRAPH))


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
