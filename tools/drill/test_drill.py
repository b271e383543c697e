"""make check-drill: a short operations drill (tools/drill/drill.py) against a
real redis-server, and its negative case: a replay store that accepts
everything must be caught by the drill's replay check."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("DRILL_BUILD", os.path.join(HERE, "..", "..", "build"))


def drill(tmp_path, *args):
    out = tmp_path / "fig.json"
    r = subprocess.run([sys.executable, os.path.join(HERE, "drill.py"), "--build", BUILD,
                        "--json", str(out), *args], capture_output=True, text=True, timeout=120)
    print(r.stdout, r.stderr)
    return r.returncode, json.loads(out.read_text())


def test_short_drill_with_redis(tmp_path):
    # Flights replayed in both directions, many of them: the restart phase
    # is where a quarantined server's refusal once went out before Redis
    # had recorded the key (docs/runbook.md, "Fixed").
    rc, fig = drill(tmp_path, "--phase", "4", "--replay-every", "4", "--replay-both-ways")
    assert fig["mode"] == "redis"
    assert fig["replays_sent"] > 0
    assert fig["replays_accepted"] == 0
    assert fig["handshakes_failed"] == 0, fig["failures"]
    assert fig["outage"]["early_offered"] > 0 and fig["outage"]["early_accepted"] == 0
    assert fig["after_quarantine"]["early_accepted"] > 0
    assert fig["early_rejected_replay_reason"] > 0
    assert all(fig["verdicts"].values()), fig["verdicts"]
    assert rc == 0 and fig["pass"]


def test_drill_catches_a_store_that_accepts_replays(tmp_path):
    rc, fig = drill(tmp_path, "--phase", "4", "--replay-every", "3", "--broken-store")
    assert fig["replays_sent"] > 0
    assert fig["replays_accepted"] > 0
    assert fig["verdicts"]["replays accepted = 0"] is False
    assert rc == 1 and not fig["pass"]
