#!/usr/bin/env python3
"""drill.py - rehearse docs/runbook.md on loopback (make drill, make check-drill).

Starts a real redis-server (temporary directory, free loopback port, no
persistence, maxmemory-policy noeviction), two drill servers sharing ticket
keys and the Redis replay store, and drill clients under continuous load,
then, in phases:

  warmup     the stores' start-up quarantine (no 0-RTT yet)
  baseline   steady load
  rotation   new ticket key appended to the key file, SIGHUP to both servers
  restart    server B drained (clients skip it), SIGTERM, started again
  outage     Redis stopped: 0-RTT must be refused, 1-RTT must go on
  recovery   Redis started again (empty): after the quarantine, 0-RTT again

Clients record one in every N 0-RTT flights (all sent to the same server;
with --replay-both-ways two, one to each) and replay them to the other server;
a replay is accepted if the target server's early log has its request.

Prints the figures and writes them as JSON (--json); exits 1 when a verdict
fails.  --broken-store runs the servers with a store that calls every key
fresh (no Redis) and only the baseline phase: the drill must then fail its
"replays accepted = 0" verdict (its negative case, test_drill.py).
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Drill:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.tmp = tempfile.mkdtemp(prefix="ferrule-drill-")
        self.pki = os.path.join(self.build, "drill-pki")
        self.events = []
        self.procs = {}
        self.redis = None

    # ---- processes -------------------------------------------------------
    def mark(self, name):
        self.events.append((name, time.time() * 1000.0))
        print(f"drill: {name}", flush=True)

    def start_redis(self):
        self.redis_log = open(os.path.join(self.tmp, "redis.log"), "a")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--dir", self.tmp, "--save", "", "--appendonly", "no",
             "--maxmemory", "64mb", "--maxmemory-policy", "noeviction",
             "--loglevel", os.environ.get("DRILL_REDIS_LOGLEVEL", "warning")], stdout=self.redis_log)
        if not wait_port(self.redis_port):
            raise SystemExit("drill: redis-server did not start")

    def stop_redis(self):
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)

    def redis_info(self):
        out = {}
        try:
            r = subprocess.run(["redis-cli", "-p", str(self.redis_port), "INFO", "memory"],
                               capture_output=True, text=True, timeout=5)
            for line in r.stdout.splitlines():
                k, _, v = line.partition(":")
                if k in ("used_memory", "maxmemory", "maxmemory_policy"):
                    out[k] = int(v) if v.strip().isdigit() else v.strip()
            r = subprocess.run(["redis-cli", "-p", str(self.redis_port), "DBSIZE"],
                               capture_output=True, text=True, timeout=5)
            out["keys"] = int(r.stdout.strip())
            if out.get("maxmemory"):
                out["fullness"] = round(out["used_memory"] / out["maxmemory"], 4)
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            out["error"] = str(e)
        return out

    def cert_days_left(self):
        """The runbook's certificate-expiry signal, for the drill's leaf."""
        r = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in",
                            os.path.join(self.pki, "ecdsa-p256.leaf.pem")],
                           capture_output=True, text=True)
        end = datetime.datetime.strptime(r.stdout.strip().split("=", 1)[1],
                                         "%b %d %H:%M:%S %Y %Z")
        return round((end - datetime.datetime.utcnow()).total_seconds() / 86400.0, 1)

    def start_server(self, idx):
        name = "AB"[idx]
        cmd = [os.path.join(self.build, "drill_server"), "--name", name,
               "--port", str(self.ports[idx]),
               "--cert", os.path.join(self.pki, "ecdsa-p256.chain.pem"),
               "--key", os.path.join(self.pki, "ecdsa-p256.key"),
               "--ticket-keys", self.keys_path, "--window-ms", str(self.a.window_ms),
               "--stats", os.path.join(self.tmp, f"stats-{name}.json"),
               "--early-log", os.path.join(self.tmp, "early.log")]
        if self.a.trace:
            cmd += ["--trace", os.path.join(self.tmp, f"trace-{name}.log")]
        cmd += ["--store", "accept-all"] if self.a.broken_store else \
               ["--redis", f"127.0.0.1:{self.redis_port}"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if not line.startswith("READY"):
            raise SystemExit(f"drill: server {name} did not start: {line!r}")
        self.procs[name] = p

    def stop_server(self, idx):
        p = self.procs.pop("AB"[idx])
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        return p.returncode

    def add_key(self):
        keys = []
        if os.path.exists(self.keys_path):
            with open(self.keys_path) as f:
                keys = [l.strip() for l in f if l.strip()]
        keys = (keys + [os.urandom(48).hex()])[-3:]
        tmp = self.keys_path + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(keys) + "\n")
        os.rename(tmp, self.keys_path)

    # ---- the drill -------------------------------------------------------
    def run(self):
        a = self.a
        subprocess.run([os.path.join(ROOT, "tools", "gen-pki.sh"), self.pki], check=True,
                       stdout=subprocess.DEVNULL)
        self.redis_port = free_port()
        self.ports = [free_port(), free_port()]
        self.keys_path = os.path.join(self.tmp, "ticket-keys")
        self.drain = os.path.join(self.tmp, "drain")
        self.add_key()
        t_start = time.time()
        if not a.broken_store:
            self.start_redis()
        self.start_server(0)
        self.start_server(1)
        clients = []
        for i in range(a.clients):
            log = os.path.join(self.tmp, f"client-{i}.log")
            clients.append((log, subprocess.Popen(
                [os.path.join(self.build, "drill_client"),
                 "--servers", f"{self.ports[0]},{self.ports[1]}",
                 "--ca", os.path.join(self.pki, "root.pem"), "--log", log,
                 "--id-base", str((i + 1) * 100000000), "--replay-every", str(a.replay_every),
                 "--replay-both-ways", "1" if a.replay_both_ways else "0",
                 "--drain-file", self.drain])))
        p = a.phase
        if not a.broken_store:
            # Each store starts quarantined (window + 2 s): no 0-RTT yet.
            self.mark("warmup")
            time.sleep(a.window_ms / 1000.0 + 2.5)
        self.mark("baseline")
        time.sleep(p)
        if not a.broken_store:
            self.mark("rotation")
            self.add_key()
            for pr in self.procs.values():
                pr.send_signal(signal.SIGHUP)
            time.sleep(p)
            self.mark("restart")
            with open(self.drain, "w") as f:
                f.write("1\n")
            time.sleep(0.3)
            rc = self.stop_server(1)
            self.start_server(1)
            os.unlink(self.drain)
            self.server_exit_on_restart = rc
            time.sleep(p)
            self.redis_before_outage = self.redis_info()
            self.mark("outage")
            self.stop_redis()
            time.sleep(p)
            self.mark("recovery")
            self.start_redis()
            time.sleep(max(p, a.window_ms / 1000.0 + 2.0 + a.phase))
        self.mark("end")
        for _, c in clients:
            c.send_signal(signal.SIGTERM)
        for _, c in clients:
            c.wait(15)
        stats = {}
        for name in list(self.procs):
            self.stop_server("AB".index(name))
            with open(os.path.join(self.tmp, f"stats-{name}.json")) as f:
                stats[name] = json.load(f)
        redis_end = None if a.broken_store else self.redis_info()
        self.stop_redis()
        return self.figures([l for l, _ in clients], stats, redis_end, time.time() - t_start)

    # ---- figures ---------------------------------------------------------
    def phase_of(self, t):
        cur = None
        for name, at in self.events:
            if t >= at:
                cur = name
        return cur

    def figures(self, logs, stats, redis_end, elapsed):
        a = self.a
        conns, replays, refused = [], [], 0
        for log in logs:
            with open(log) as f:
                for line in f:
                    r = json.loads(line)
                    if "replay_to" in r:
                        replays.append(r)
                    elif r.get("connect_refused"):
                        refused += 1
                    else:
                        conns.append(r)
        early = set()
        with open(os.path.join(self.tmp, "early.log")) as f:
            for line in f:
                name, id_ = line.split()
                early.add((name, int(id_)))
        accepted_replays = [r for r in replays if ("AB"[r["replay_to"]], r["id"]) in early]
        at = dict(self.events)
        phases = {}
        for name, _ in self.events[:-1]:
            sel = [c for c in conns if self.phase_of(c["t"]) == name]
            off = [c for c in sel if c["offered"]]
            ph = {
                "handshakes": len(sel),
                "failed": sum(1 for c in sel if not c["ok"]),
                "resumed": sum(1 for c in sel if c["resumed"]),
                "early_offered": len(off),
                "early_accepted": sum(1 for c in off if c["early"] == "accepted"),
            }
            ph["resumption_rate"] = round(ph["resumed"] / max(1, len(sel) - 0), 4)
            ph["early_acceptance_rate"] = round(ph["early_accepted"] / max(1, len(off)), 4)
            phases[name] = ph
        errors = {}
        for c in conns:
            if not c["ok"]:
                errors[c["error"]] = errors.get(c["error"], 0) + 1
        fig = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["tools/drill/drill.py"] + sys.argv[1:]),
            "mode": "broken-store" if a.broken_store else "redis",
            "seconds": round(elapsed, 1),
            "clients": a.clients,
            "handshakes_attempted": len(conns),
            "handshakes_failed": sum(1 for c in conns if not c["ok"]),
            "failures": errors,
            "connect_refused": refused,
            "replays_sent": len(replays),
            "replays_accepted": len(accepted_replays),
            "replays_accepted_detail": [dict(r, phase=self.phase_of(r["t"])) for r in accepted_replays],
            "phases": phases,
            "events_ms": {name: int(t) for name, t in self.events},
            "servers": stats,
            "certificate_days_left": self.cert_days_left(),
        }
        verdicts = {}
        verdicts["replays accepted = 0"] = len(accepted_replays) == 0
        verdicts["replays were sent"] = len(replays) > 0
        if not a.broken_store:
            base, rot, rst = phases["baseline"], phases["rotation"], phases["restart"]
            # Outage: from 0.5 s after Redis stopped (connections already
            # past their store check may still complete) to its restart.
            o0, o1 = at["outage"] + 500, at["recovery"]
            out_conns = [c for c in conns if o0 <= c["t"] < o1]
            q_end = at["recovery"] + a.window_ms + 2000 + 1000
            rec_conns = [c for c in conns if c["t"] >= q_end]
            fig["outage"] = {
                "handshakes": len(out_conns),
                "failed": sum(1 for c in out_conns if not c["ok"]),
                "early_offered": sum(1 for c in out_conns if c["offered"]),
                "early_accepted": sum(1 for c in out_conns if c["early"] == "accepted"),
            }
            fig["after_quarantine"] = {
                "handshakes": len(rec_conns),
                "early_offered": sum(1 for c in rec_conns if c["offered"]),
                "early_accepted": sum(1 for c in rec_conns if c["early"] == "accepted"),
            }
            refused_replay = sum(s.get("early_rejected_by_reason", {}).get("replay", 0)
                                 for s in stats.values())
            fig["early_rejected_replay_reason"] = refused_replay
            fig["store_seen"] = sum(s["replay_store"].get("seen", 0) for s in stats.values())
            fig["redis_before_outage"] = self.redis_before_outage
            fig["redis_end"] = redis_end
            fig["server_B_exit_on_restart"] = self.server_exit_on_restart
            verdicts.update({
                "failed handshakes = 0": fig["handshakes_failed"] == 0,
                "0-RTT accepted in the baseline": base["early_accepted"] > 0,
                "resumption after rotation >= 90% of before":
                    rot["resumption_rate"] >= 0.9 * base["resumption_rate"] > 0,
                "resumption after restart >= 90% of before":
                    rst["resumption_rate"] >= 0.9 * base["resumption_rate"],
                "Redis down: 0-RTT accepted = 0": fig["outage"]["early_accepted"] == 0
                    and fig["outage"]["early_offered"] > 0,
                "Redis down: 1-RTT handshakes continue": fig["outage"]["handshakes"] > 0
                    and fig["outage"]["failed"] == 0,
                "Redis back: 0-RTT accepted again": fig["after_quarantine"]["early_accepted"] > 0,
                "a server refused a replayed ticket (reason replay)": refused_replay > 0,
                "restarted server exited cleanly": self.server_exit_on_restart == 0,
            })
        fig["verdicts"] = verdicts
        fig["pass"] = all(verdicts.values())
        return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--phase", type=float, default=30.0, help="seconds per phase")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--replay-every", type=int, default=50)
    ap.add_argument("--window-ms", type=int, default=3000)
    ap.add_argument("--replay-both-ways", action="store_true",
                    help="replay flights to both servers (default: one direction, the recorded "
                         "flights all went to one server; check-drill uses it)")
    ap.add_argument("--broken-store", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--trace", action="store_true",
                    help="servers write trace-A.log / trace-B.log (every replay decision, store "
                         "command and reply, request) into the kept temporary directory")
    a = ap.parse_args()
    if a.trace:
        a.keep = True
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool) and not a.broken_store:
            raise SystemExit(f"drill: {tool} not found (tools/deps.sh installs redis-server)")
    d = Drill(a)
    try:
        fig = d.run()
    finally:
        for p in d.procs.values():
            p.kill()
        if d.redis and d.redis.poll() is None:
            d.redis.kill()
        if not a.keep:
            shutil.rmtree(d.tmp, ignore_errors=True)
        else:
            print(f"drill: kept {d.tmp}")
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(fig, f, indent=1)
            f.write("\n")
    print(f"drill ({fig['mode']}, {fig['seconds']} s): {fig['handshakes_attempted']} handshakes, "
          f"{fig['handshakes_failed']} failed, replays accepted {fig['replays_accepted']}"
          f"/{fig['replays_sent']}")
    for name, ph in fig["phases"].items():
        print(f"  {name:9} {ph['handshakes']:6} handshakes  {ph['failed']} failed  "
              f"resumed {ph['resumption_rate']:.1%}  0-RTT {ph['early_accepted']}/{ph['early_offered']}")
    for v, ok in fig["verdicts"].items():
        print(f"  [{'ok' if ok else 'FAIL'}] {v}")
    return 0 if fig["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
