"""A corpus of hostile files, made fresh by each test that needs it (no binaries are committed).

Each maker writes one file (a checkpoint) or one run folder the way an attacker or a crash would, and
returns its path. `LEAK` stands for an address of the uploader's choosing: a page that requests any URL
from a file's content would reach it.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from contextlib import contextmanager
from pathlib import Path

import torch

from digits import build_model, save_checkpoint
from digits.checkpoint import FORMAT
from digits.events import Finished, Started, Step

LEAK = "http://127.0.0.1:9/leak"  # port 9 (discard): a request there is a leak, never a real service


def _base(model: str = "cnn") -> dict:
    torch.manual_seed(0)
    return {"format": FORMAT, "model": model, "model_args": {},
            "state_dict": build_model(model).state_dict(), "config": {"model": model, "epochs": 1},
            "metrics": {"test_acc": 0.5}, "created": "2026-11-23T00:00:00+0000"}


def _detector(size: int = 280, hidden: int = 32) -> dict:
    """A not-a-digit detector's tensors (digits.detector.DETECTOR_FIELDS) for a head on `size` features
    (the CNN has 280)."""
    return {"mean": torch.zeros(size), "std": torch.ones(size), "w1": torch.zeros(hidden, size),
            "b1": torch.zeros(hidden), "w2": torch.zeros(hidden), "b2": torch.tensor(0.0)}


def _with_detector(tensors: dict, threshold: float = 0.0) -> dict:
    return {"detector": tensors, "metrics": {"detector_threshold": threshold}}


def _save(path: Path, data: dict) -> Path:
    torch.save(data, path)
    return path


def _deep_pickle(path: Path, data: dict, key: str, depth: int) -> Path:
    """`data` with data[key] a list nested `depth` deep, written as raw pickle opcodes (torch's own pickler
    recurses and could not write it; an attacker writes the bytes by hand)."""
    placeholder = "DEEP-PLACEHOLDER"
    buf = io.BytesIO()
    torch.save({**data, key: placeholder}, buf)
    nested = b"](" * depth + b"]" + b"e" * depth  # EMPTY_LIST MARK … EMPTY_LIST APPENDS…
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            raw = src.read(info)
            if info.filename.endswith("data.pkl"):
                raw = raw.replace(b"X" + struct.pack("<I", len(placeholder)) + placeholder.encode(), nested)
            z.writestr(info.filename, raw)
    return path


def _doubling(levels: int):
    node: list = [0]
    for _ in range(levels):
        node = [node, node]  # 2**levels leaves when expanded, a few KB as a pickle
    return node


@contextmanager
def _rezipped(path: Path, compression: int):
    """A valid checkpoint copied entry by entry into a new zip at `path` with `compression`, left open
    (with the archive's top folder name) for the attack's own entries."""
    buf = io.BytesIO()
    torch.save(_base(), buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", compression) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        yield z, src.infolist()[0].filename.split("/")[0]


def _zip_bomb(path: Path, mb: int) -> Path:
    """A valid checkpoint re-zipped with DEFLATE plus an entry of `mb` MB of zeros (a few hundred KB on disk)."""
    with _rezipped(path, zipfile.ZIP_DEFLATED) as (z, prefix):
        with z.open(f"{prefix}/data/999", "w", force_zip64=True) as f:
            zeros = bytes(1 << 20)
            for _ in range(mb):
                f.write(zeros)
    return path


def _many_entries(path: Path, n: int) -> Path:
    with _rezipped(path, zipfile.ZIP_STORED) as (z, _):
        for i in range(n):
            z.writestr(f"junk/{i}", b"")
    return path


def hostile_checkpoints(folder: Path) -> dict[str, Path]:
    """name → file, each one refused or cleaned by the checkpoint schema (a list of cases, one line or two each:
    longer than most functions, as a table is)."""
    folder.mkdir(parents=True, exist_ok=True)
    b = _base
    nan = b()
    nan["state_dict"] = {k: v.clone().fill_(float("nan")) if i == 0 else v
                         for i, (k, v) in enumerate(nan["state_dict"].items())}
    inf = b()
    inf["state_dict"] = {k: v.clone().fill_(float("inf")) for k, v in inf["state_dict"].items()}
    made = {
        "test-acc-text": _save(folder / "test-acc-text.pt", {**b(), "metrics": {"test_acc": "x"}}),
        "metrics-list": _save(folder / "metrics-list.pt", {**b(), "metrics": [1, 2, 3]}),
        "deep-extra": _deep_pickle(folder / "deep-extra.pt", b(), "extra", 50_000),
        "deep-metrics": _deep_pickle(folder / "deep-metrics.pt", b(), "metrics", 50_000),
        "doubling-config": _save(folder / "doubling-config.pt", {**b(), "config": {"epochs": 1, "model": "cnn",
                                                                                   "x": _doubling(40)}}),
        "doubling-config-value": _save(folder / "doubling-config-value.pt",
                                       {**b(), "config": {"epochs": _doubling(40)}}),
        "markdown-error": _save(folder / "markdown-error.pt", {**b(), "error": f"![x]({LEAK}) [click]({LEAK})"}),
        "markdown-model": _save(folder / "markdown-model.pt", {**b(), "model": f"![x]({LEAK})"}),
        "markdown-command": _save(folder / "markdown-command.pt", {**b(), "command": f"![x]({LEAK})"}),
        "nan-weights": _save(folder / "nan-weights.pt", nan),
        "inf-weights": _save(folder / "inf-weights.pt", inf),
        "model-list": _save(folder / "model-list.pt", {**b(), "model": ["cnn"]}),
        "model-dict": _save(folder / "model-dict.pt", {**b(), "model": {"a": 1}}),
        "model-args": _save(folder / "model-args.pt", {**b(), "model_args": {"evil": 1}}),
        "state-dict-list": _save(folder / "state-dict-list.pt", {**b(), "state_dict": [1, 2]}),
        "int-weights": _save(folder / "int-weights.pt",
                             {**b(), "state_dict": {k: v.long() for k, v in b()["state_dict"].items()}}),
        "config-list": _save(folder / "config-list.pt", {**b(), "config": ["epochs", 1]}),
        "config-bad-value": _save(folder / "config-bad-value.pt", {**b(), "config": {"lr": "fast"}}),
        "huge-created": _save(folder / "huge-created.pt", {**b(), "created": "x" * 1_000_000}),
        # a temperature divides the logits before the softmax: 0 or less, NaN or far out of range would make
        # every answer certain or every answer uniform (or NaN)
        "temperature-nan": _save(folder / "temperature-nan.pt", {**b(), "metrics": {"temperature": float("nan")}}),
        "temperature-negative": _save(folder / "temperature-negative.pt", {**b(), "metrics": {"temperature": -1.0}}),
        "temperature-huge": _save(folder / "temperature-huge.pt", {**b(), "metrics": {"temperature": 1e30}}),
        "temperature-text": _save(folder / "temperature-text.pt", {**b(), "metrics": {"temperature": "2"}}),
        # the not-a-digit detector (digits.detector): its tensors must fit the model, be finite and few, and come with a
        # threshold
        "detector-no-threshold": _save(folder / "detector-no-threshold.pt", {**b(), "detector": _detector()}),
        "detector-wrong-shape": _save(folder / "detector-wrong-shape.pt",
                                      {**b(), **_with_detector(_detector(size=84))}),
        "detector-nan": _save(folder / "detector-nan.pt",
                              {**b(), **_with_detector({**_detector(), "w2": torch.full((32,), float("nan"))})}),
        "detector-text": _save(folder / "detector-text.pt", {**b(), **_with_detector({**_detector(), "b2": "0"})}),
        "detector-huge": _save(folder / "detector-huge.pt", {**b(), **_with_detector(_detector(hidden=2000))}),
        "detector-threshold-nan": _save(folder / "detector-threshold-nan.pt",
                                        {**b(), **_with_detector(_detector(), float("nan"))}),
        "huge-calibration-command": _save(folder / "huge-calibration-command.pt",
                                          {**b(), "calibration_command": "x" * 100_000}),
        "zip-bomb": _zip_bomb(folder / "zip-bomb.pt", 256),
        "many-entries": _many_entries(folder / "many-entries.pt", 5000),
        "not-a-zip": folder / "not-a-zip.pt",
        "empty": folder / "empty.pt",
        "legacy-pickle": folder / "legacy-pickle.pt",
    }
    made["not-a-zip"].write_bytes(b"\x80\x04" + b"x" * 100)
    made["empty"].write_bytes(b"")
    torch.save(b(), made["legacy-pickle"], _use_new_zipfile_serialization=False, pickle_module=pickle)
    return made


def good_events(model: str = "cnn") -> list[dict]:
    config = {"model": model, "epochs": 1}
    return [Started(0.1, model, 57_790, "cpu", "CPU (2 threads)", 100, 10, 10, 4, 4, config).to_dict(),
            Step(0.2, 1, 1, 2.3, 0.01, 1000.0).to_dict()]


def _run(root: Path, name: str, lines: list[bytes], process: bytes | None = None) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": "cnn", "epochs": 1}))
    (run / "events.jsonl").write_bytes(b"".join(lines))
    if process is not None:
        (run / "process.json").write_bytes(process)
    return run


def hostile_runs(root: Path, live_pid: int | None = None, long_line_mb: int = 8) -> dict[str, Path]:
    """name → run folder, each of which the run reader and the Train page must survive."""
    good = [json.dumps(e).encode() + b"\n" for e in good_events()]
    deep = b"[" * 100_000 + b"]" * 100_000
    finished = json.dumps(Finished(1.0, 4, 0.5, 4, 0.5, None).to_dict()).encode() + b"\n"
    failed = {"kind": "failed", "elapsed": 1.0, "iteration": 2, "message": f"![x]({LEAK}) **bold**", "checkpoint": None}
    made = {
        "20261101-000001-bad-utf8": _run(root, "20261101-000001-bad-utf8", good + [b"\xff\xfe{not utf8}\n"]),
        "20261101-000002-last-number": _run(root, "20261101-000002-last-number", good + [b"5\n"]),
        "20261101-000003-last-deep": _run(root, "20261101-000003-last-deep", good + [deep + b"\n"]),
        "20261101-000004-wrong-types": _run(root, "20261101-000004-wrong-types", good + [
            b'{"kind": "step", "elapsed": "x", "epoch": 1, "iteration": 1, "loss": 1, "lr": 1, "samples_per_s": 1}\n',
            b'{"kind": "started", "elapsed": 0, "model": "cnn", "parameters": 1, "device": "cpu", "device_name": "x", '
            b'"train_size": 1, "val_size": 1, "test_size": 1, "iterations_per_epoch": 1, "total_iterations": 1, '
            b'"config": [1]}\n',
            b'{"kind": ["evaluation"]}\n', b'null\n', b'"text"\n']),
        "20261101-000005-markdown-message": _run(root, "20261101-000005-markdown-message",
                                                 good + [json.dumps(failed).encode() + b"\n"]),
        "20261101-000006-long-line": _run(root, "20261101-000006-long-line",
                                          good + [b"{" + b"x" * (long_line_mb << 20)]),
        "20261101-000007-pid-string": _run(root, "20261101-000007-pid-string", good, b'{"pid": "1234"}'),
        "20261101-000008-pid-float": _run(root, "20261101-000008-pid-float", good, b'{"pid": 1.5}'),
        "20261101-000009-pid-null": _run(root, "20261101-000009-pid-null", good, b'{"pid": null}'),
        "20261101-000010-pid-huge": _run(root, "20261101-000010-pid-huge", good, b'{"pid": 99999999999999999999999}'),
        "20261101-000011-pid-zero": _run(root, "20261101-000011-pid-zero", good, b'{"pid": 0}'),
        "20261101-000012-pid-minus-one": _run(root, "20261101-000012-pid-minus-one", good, b'{"pid": -1}'),
        "20261101-000013-process-garbage": _run(root, "20261101-000013-process-garbage", good, b"\x00\xff" * 10),
        "20261101-000014-finished-then-junk": _run(root, "20261101-000014-finished-then-junk",
                                                   good + [finished, b"5\n"]),
        "20261101-000015-config-garbage": _run(root, "20261101-000015-config-garbage", good),
        "20261101-000016-[x](http:--127.0.0.1:9-leak)": _run(root, "20261101-000016-[x](http:--127.0.0.1:9-leak)",
                                                             good),
    }
    (made["20261101-000015-config-garbage"] / "config.json").write_bytes(b"[1, 2")
    # Snapshots (the Inside page's slider): a link out of the folder, junk, a folder, then one good file.
    made["20261101-000018-snapshots"] = _run(root, "20261101-000018-snapshots", good)
    snaps = made["20261101-000018-snapshots"] / "snapshots"
    snaps.mkdir()
    (snaps / "it-000000000.pt").symlink_to("/etc/passwd")
    (snaps / "it-000000100.pt").write_bytes(b"\x00junk" * 1000)
    (snaps / "it-000000200.pt").mkdir()
    (snaps / "it-000000250.pt").write_bytes(b"PK\x03\x04" + b"\xff" * 100)
    valid_checkpoint(snaps / "it-000000300.pt", "lenet5")
    if live_pid is not None:  # a stale process.json naming a live process that is not ours
        made["20261101-000017-stale-pid"] = _run(root, "20261101-000017-stale-pid", good,
                                                 json.dumps({"pid": live_pid, "started": 0}).encode())
    return made


def valid_checkpoint(path: Path, model: str = "cnn") -> Path:
    torch.manual_seed(0)
    return save_checkpoint(path, model, build_model(model), config={"model": model, "epochs": 1},
                           metrics={"test_acc": 0.5})
