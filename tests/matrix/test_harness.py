"""The interop matrix harness (tools/interop_matrix.py) on a fake peer: it
passes a correct peer, goes red on a wrong echo, and --strict fails on a red
cell and on an n.a. without a reason.  The real matrix runs after these in
`make check-interop-matrix`."""
import json
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import interop_matrix as m  # noqa: E402

FERRULE = REPO / "build" / "ferrule"
FAKE = pathlib.Path(__file__).with_name("fake_peer.py")


@pytest.fixture
def run(tmp_path, monkeypatch):
    if not FERRULE.exists():
        pytest.fail(f"{FERRULE} missing: make build")

    def go(mode, flows, strict=True):
        monkeypatch.setenv("FAKE_PEER_MODE", mode)
        monkeypatch.setattr(m, "peers", lambda: [
            m.Peer("fake", "fake peer", [sys.executable, str(FAKE)], build_note="test")])
        logs = tmp_path / mode
        rc = m.main(["--ferrule", str(FERRULE), "--logs", str(logs), "--flows", flows,
                     "--jobs", "2"] + (["--strict"] if strict else []))
        summary = json.loads((logs / "summary.json").read_text())
        cells = {(c["role"], c["flow"]): (c["result"], c["detail"]) for c in summary["cells"]}
        return rc, cells, (logs / "interop-matrix.md").read_text()

    return go


def test_pattern_is_i_mod_251():
    assert m.pattern(600) == bytes(i % 251 for i in range(600))
    assert m.pattern(10, 500) == bytes(i % 251 for i in range(500, 510))


def test_good_peer_passes_strict(run):
    rc, cells, md = run("good", "handshake,alpn-mismatch,truncation,hrr")
    assert rc == 0, cells
    for role in m.ROLES:
        assert cells[(role, "handshake")][0] == "pass", cells
        assert cells[(role, "alpn-mismatch")][0] == "pass", cells
        assert cells[(role, "truncation")][0] == "pass", cells
    # caps named a reason: n.a. with that reason, which strict accepts
    # (with ferrule as server HRR needs nothing of the peer: it runs)
    assert cells[("ferrule-client", "hrr")] == ("n.a.", "the fake peer does not do this"), cells
    assert cells[("ferrule-server", "hrr")][0] == "pass", cells
    assert "| `handshake` | pass: " in md
    assert "no_application_protocol sent" in md


def test_wrong_echo_is_red_and_fails_strict(run):
    rc, cells, md = run("corrupt", "handshake")
    assert rc == 1
    res, detail = cells[("ferrule-client", "handshake")]
    assert res == "fail" and "echo mismatch" in detail, detail
    assert "**FAIL**" in md
    # Without --strict the run reports the same cell but exits 0.
    rc, cells, _ = run("corrupt", "handshake", strict=False)
    assert rc == 0 and cells[("ferrule-client", "handshake")][0] == "fail"


def test_empty_reason_in_caps_is_refused(run):
    rc, cells, _ = run("bare-reason", "handshake")
    assert rc == 1
    res, detail = cells[("ferrule-server", "handshake")]
    assert res == "fail" and "neither true nor a reason" in detail, detail


def test_na_without_reason_fails_strict(tmp_path, monkeypatch):
    # A flow with no function and no reason for a role: its cell is n.a.
    # without a reason, which only --strict turns into a failure.
    monkeypatch.setattr(m, "peers", lambda: [
        m.Peer("fake", "fake peer", [sys.executable, str(FAKE)], build_note="test")])
    real = m.build_flows

    def flows():
        real()
        m.FLOWS[:] = [m.Flow("no-reason", "a flow without a reason")]
    monkeypatch.setattr(m, "build_flows", flows)
    args = ["--ferrule", str(FERRULE), "--logs", str(tmp_path / "l"), "--flows", "no-reason"]
    assert m.main(args) == 0
    assert m.main(args + ["--strict"]) == 1
