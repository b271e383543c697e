"""bench/py_bench.py rewrites its own sections of docs/performance.md and
keeps every section other tools wrote (a rewrite once dropped all but two)."""

from __future__ import annotations

import importlib.util

from conftest import REPO


def load_bench():
    spec = importlib.util.spec_from_file_location("py_bench", REPO / "bench" / "py_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rewrite_keeps_foreign_sections(tmp_path):
    bench = load_bench()
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nold table\n\n## Why the bulk path is fast\n\nold why\n\n"
                   "## Instruction counts of a handshake pair\n\nBODY-COUNTS\n\n"
                   "## X25519MLKEM768 vs x25519: handshake cost\n\nBODY-MLKEM\n\n"
                   "## Libraries with ferrule.SSLContext\n\nold libs\n\n"
                   "## make bench: ferrule vs libssl\n\nBODY-PAIR\n")
    kept = bench.kept_sections(doc)
    assert kept.index("BODY-COUNTS") < kept.index("BODY-MLKEM") < kept.index("BODY-PAIR")
    assert "old why" not in kept and "old libs" not in kept and "old table" not in kept
