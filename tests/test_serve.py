"""digits.serve, a lecture hall's parts (the whole hall in Chromium: tests/test_browser_hall.py), and what replicas
share: one training run across processes."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from digits import serve
from digits.cli import main


def test_caddy_keeps_a_browser_on_one_replica_by_its_own_cookie_and_checks_their_health():
    config = serve.caddyfile(8501, "0.0.0.0", [9001, 9002])
    assert "http://:8501 {" in config and "bind 0.0.0.0" in config
    assert "reverse_proxy 127.0.0.1:9001 127.0.0.1:9002 {" in config
    assert "lb_policy cookie digits_replica" in config and f"health_uri {serve.HEALTH}" in config
    assert "admin off" in config and "auto_https off" in config  # no admin port to collide, no certificates
    assert "ip_hash" not in config


def test_replicas_answer_to_this_machine_the_names_given_and_its_network_address():
    assert serve.allowed_hosts("127.0.0.1", []) == list(serve.LOOPBACK)
    assert serve.allowed_hosts("192.168.1.20", ["hall.local"]) == [*serve.LOOPBACK, "hall.local", "192.168.1.20"]
    everywhere = serve.allowed_hosts("0.0.0.0", ["hall.local"])
    assert everywhere[:4] == [*serve.LOOPBACK, "hall.local"]
    assert everywhere[4:] == ([serve.this_machine()] if serve.this_machine() else [])
    command = serve.replica_command(9001, ["localhost", "hall.local"])
    assert command[-4:] == ["--server.allowedHosts", "localhost", "--server.allowedHosts", "hall.local"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"  # replicas: loopback only


@pytest.mark.parametrize("args, words", [(["--replicas", "0"], "--replicas is a number from 1 to 16, got 0"),
                                         (["--replicas", "99"], "got 99"),
                                         (["--port", "70000"], "--port is a port number from 1 to 65535")])
def test_a_bad_hall_is_one_line(args, words, capsys):
    assert main(["serve", *args]) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_caddy_is_one_line_that_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["serve", "--replicas", "2"]) == 1
    err = capsys.readouterr().err
    assert "Caddy is not installed: `apt-get install caddy`" in err and err.count("\n") == 1


def test_two_processes_pressing_start_at_once_start_one_run(tmp_path):
    """What every replica of a hall relies on: the one-run lock is a file lock, held across processes."""
    blocker = tmp_path / "no-data"
    blocker.write_text("MNIST cannot be fetched into a file: the training process ends at once, offline")
    script = textwrap.dedent(f"""
        import json, sys, time
        from digits.launch import RunActive, start_run
        while time.time() < {time.time() + 4}:  # both processes press Start at the same moment
            time.sleep(0.001)
        try:
            print(json.dumps(str(start_run({{"model": "cnn", "epochs": 1}}, sys.argv[1], nice=0))))
        except RunActive as e:
            print(json.dumps({{"refused": str(e)}}))
    """)
    env = {**os.environ, "DIGITS_DATA": str(blocker), "DIGITS_SPARE": "0"}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "runs")], env=env, text=True,
                              stdout=subprocess.PIPE) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in procs]
    started = [r for r in results if isinstance(r, str)]
    assert len(started) == 1 and sum(isinstance(r, dict) and "refused" in r for r in results) == 1, results
    assert Path(started[0]).is_dir()
