#!/usr/bin/env python3
"""The fault suite (issue #12): the real gpt2d binary under concurrent, killed and signalled clients.

Every scenario checks "nothing lost": each request sent with an id gets exactly one final line
(`result` or `error`), the results of well-behaved clients equal what the same requests return on an
idle daemon (tokens and text exactly, floats within 1e-4), and afterwards the daemon is back to its
baseline (no request counted as active, no leaked session, RSS within a bound of its idle figure).

Scenarios (bounded: about a minute in all on the tiny fixtures):
  mixed64       64 concurrent clients, each a mix of generate (plain and streamed), score, tokenize,
                detokenize, embed, classify, tag and a session conversation
  killed100     100 clients that start long streamed generations and vanish mid-stream (abortive
                close, and 10 real child processes killed with SIGKILL) while 8 clients keep checking
  sighup        SIGHUP sent repeatedly while 16 clients work: every request still answers exactly
  sigterm       SIGTERM while 16 long generations stream: each ends with one final line (a result or
                shutting_down/cancelled), the daemon exits 0 within its drain timeout plus slack
  neverread     4 clients send big tokenize requests and never read (reply budgets of 1 and 4 MiB):
                the daemon stops reading them, its RSS stays within a bound, other clients' results
                are exact; once the 4 read, each of their requests gets exactly one final line
  truncated     a second copy of the LM has its model.safetensors truncated in place while 4 clients
                use the first: requests on it get model_unavailable, the others stay exact; once the
                file is whole again (same bytes written back) it serves again, the daemon never dies

Standard library only. Usage (scripts/test.sh runs it):
  GPT2D_BIN=.build/debug/gpt2d python3 scripts/fault_suite.py [-v] [-k name]
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_daemon import Conn  # noqa: E402  (the same JSON-lines connection)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT2D_BIN = os.environ.get("GPT2D_BIN", os.path.join(ROOT, ".build/debug/gpt2d"))
TINY = os.path.join(ROOT, "Tests/Fixtures/models/tiny-gpt2")
TASKS = os.path.join(ROOT, "Tests/Fixtures/tasks")
READ_TIMEOUT = 120  # seconds; generous: CI machines are shared
FINAL = ("result", "error")
LONG = 120  # new tokens of a "long" generation: the tiny model has 128 positions


class Lines(Conn):
    """One raw JSON-lines connection (bench_daemon's, with a read timeout), plus whole-request calls."""

    def __init__(self, path):
        super().__init__(path)
        self.sock.settimeout(READ_TIMEOUT)

    def call(self, obj):
        """Sends one request and reads to its final line; returns (final line, [token lines])."""
        self.send(obj)
        tokens = []
        while True:
            msg = self.read()
            if msg.get("id") != obj.get("id"):
                raise AssertionError(f"line for another request: {msg}")
            if msg["type"] in FINAL:
                return msg, tokens
            tokens.append(msg)

    def abort(self):
        """Closes abortively (RST), as a killed process's socket."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()


class Daemon:
    """gpt2d on a temporary socket serving the tiny LM and two task fixtures."""

    def __init__(self, *extra, make_dir=None):
        self.dir = make_dir or tempfile.mkdtemp(prefix="gpt2d-fault-")
        self.socket = os.path.join(self.dir, "gpt2d.sock")
        conf = os.path.join(self.dir, "gpt2d.conf")
        open(conf, "w").close()
        # Every client here is the same Unix user: its share of the sessions is the whole table.
        args = [GPT2D_BIN, "--socket", self.socket, "--config", conf, "--threads", "2", "--log-level", "warning",
                "--max-sessions-per-user", "64",
                "--model", f"lm={TINY}", "--model", f"cls={TASKS}/seqcls-pad-eos", "--model", f"tok={TASKS}/tokcls",
                *extra]
        self.log = open(os.path.join(self.dir, "gpt2d.log"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gpt2d exited with {self.proc.returncode}: {self.log_text()}")
            try:
                c = Lines(self.socket)
                c.call({"id": 0, "op": "health"})
                c.close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gpt2d did not come up")

    def log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-4000:]

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stats(self):
        c = Lines(self.socket)
        r, _ = c.call({"id": "stats", "op": "stats"})
        c.close()
        return r

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def workload(seed):
    """A client's requests: (request without id, kind). Deterministic for a seed."""
    rng = random.Random(seed)
    words = ["the", "river", "stone", "light", "over", "seven", "hills", "and", "a", "quiet", "town"]
    text = lambda n: " ".join(rng.choice(words) for _ in range(n))
    reqs = [
        ({"op": "generate", "model": "lm", "prompt": text(6), "max_new_tokens": 12, "ignore_eos": True}, "generate"),
        ({"op": "generate", "model": "lm", "prompt": text(4), "max_new_tokens": 10, "ignore_eos": True,
          "stream": True}, "stream"),
        ({"op": "generate", "model": "lm", "prompt": text(5), "max_new_tokens": 6, "temperature": 0.8, "seed": seed,
          "do_sample": True, "ignore_eos": True}, "generate"),
        ({"op": "score", "model": "lm", "text": text(10)}, "score"),
        ({"op": "tokenize", "model": "lm", "text": text(8)}, "plain"),
        ({"op": "detokenize", "model": "lm", "tokens": [rng.randrange(1000) for _ in range(6)]}, "plain"),
        ({"op": "embed", "model": "lm", "texts": [text(5), text(3)]}, "floats"),
        ({"op": "classify", "model": "cls", "texts": [text(7)]}, "floats"),
        ({"op": "tag", "model": "tok", "text": text(9)}, "floats"),
    ]
    rng.shuffle(reqs)
    return reqs


def comparable(msg, kind):
    """The part of a final line that must not depend on load: no timing, no cache accounting."""
    m = {k: v for k, v in msg.items() if k not in ("id", "timing", "usage")}
    if kind in ("generate", "stream") and "usage" in msg:
        m["usage"] = {k: v for k, v in msg["usage"].items() if k != "cached_tokens"}
    return m


def close_enough(a, b, tol=1e-4):
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= tol * max(1.0, abs(b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close_enough(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close_enough(x, y, tol) for x, y in zip(a, b))
    return a == b


def run_client(daemon, seed, rounds=1):
    """One well-behaved client: its workload `rounds` times plus a session conversation. Returns
    [(request, kind, final line, token lines)]."""
    out = []
    c = Lines(daemon.socket)
    try:
        n = 0
        for _ in range(rounds):
            for req, kind in workload(seed):
                n += 1
                r = dict(req, id=f"{seed}-{n}")
                final, tokens = c.call(r)
                out.append((req, kind, final, tokens))
        opened, _ = c.call({"id": f"{seed}-open", "op": "session.open", "model": "lm"})
        if opened["type"] == "result":
            sid = opened["session"]
            for i, prompt in enumerate(["once upon", " a time"]):
                req = {"op": "generate", "model": "lm", "session": sid, "prompt": prompt, "max_new_tokens": 5,
                       "ignore_eos": True}
                final, tokens = c.call(dict(req, id=f"{seed}-s{i}"))
                out.append(({**req, "session": "S", "turn": i}, "generate", final, tokens))
            c.call({"id": f"{seed}-close", "op": "session.close", "session": sid})
        else:
            out.append(({"op": "session.open"}, "plain", opened, []))
    finally:
        c.close()
    return out


class FaultSuite(unittest.TestCase):
    expected = {}

    @classmethod
    def setUpClass(cls):
        if not os.access(GPT2D_BIN, os.X_OK):
            raise unittest.SkipTest(f"no gpt2d binary at {GPT2D_BIN} (set GPT2D_BIN)")

    def setUp(self):
        self.daemon = Daemon()
        self.addCleanup(self.daemon.stop)

    def expect_exact(self, results, reference):
        """Each (request, kind, final) equals the idle daemon's answer to the same request."""
        for req, kind, final, tokens in results:
            key = json.dumps(req, sort_keys=True)
            self.assertEqual(final["type"], "result", f"{req} → {final}")
            if key not in reference:
                reference[key] = comparable(final, kind)
                continue
            self.assertTrue(close_enough(comparable(final, kind), reference[key]),
                            f"{req}: under load {comparable(final, kind)} ≠ alone {reference[key]}")
            if kind == "stream":   # the streamed token lines are the result's tokens, in order
                self.assertEqual([t["token"] for t in tokens], final["tokens"], f"{req}: streamed tokens")
                self.assertEqual([t["index"] for t in tokens], list(range(len(tokens))))

    def reference(self, seeds):
        """The idle daemon's answers, one client at a time (each seed twice: a repeat is already exact)."""
        ref = {}
        for s in seeds:
            self.expect_exact(run_client(self.daemon, s), ref)
            self.expect_exact(run_client(self.daemon, s), ref)
        return ref

    def wait_idle(self, baseline_sessions, timeout=60):
        deadline = time.time() + timeout
        while True:
            st = self.daemon.stats()
            if st["requests_active"] == 0 and st["queue_depth"] == 0 and st["sessions"] <= baseline_sessions:
                return st
            if time.time() > deadline:
                self.fail(f"the daemon did not return to idle: {st}")
            time.sleep(0.1)

    def concurrently(self, seeds, rounds=1):
        """One client thread per entry of seeds (a seed may repeat); their results, in that order."""
        results, errors = [None] * len(seeds), []

        def one(i):
            try:
                results[i] = run_client(self.daemon, seeds[i], rounds)
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append((seeds[i], repr(e)))
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(seeds))]
        for t in threads: t.start()
        for t in threads: t.join(timeout=600)
        self.assertEqual(errors, [], "clients failed")
        return results

    def test_mixed64(self):
        ref = self.reference(range(8))
        idle = self.daemon.rss_mib()
        results = self.concurrently([i % 8 for i in range(64)])   # each workload run by 8 clients at once
        for r in results:
            self.expect_exact(r, ref)
        self.wait_idle(0)
        self.assertLess(self.daemon.rss_mib(), idle + 256, "RSS after the load")

    def test_killed100(self):
        ref = self.reference([100, 101])
        idle = self.daemon.rss_mib()
        stop = threading.Event()

        victim_errors = []

        def victim(i):
            try:
                c = Lines(self.daemon.socket)
                c.send({"id": f"v{i}", "op": "generate", "model": "lm", "prompt": "a long story",
                        "max_new_tokens": LONG, "ignore_eos": True, "stream": True})
                for _ in range(1 + i % 5):
                    msg = c.read()
                    if msg["type"] != "token":
                        raise AssertionError(f"victim {i}: {msg}")
                c.abort()
            except Exception as e:  # noqa: BLE001 — reported below
                victim_errors.append(repr(e))
        checked = []

        def checker(s):
            while not stop.is_set():
                checked.append(run_client(self.daemon, s))
        checkers = [threading.Thread(target=checker, args=(100 + i % 2,)) for i in range(8)]
        for t in checkers: t.start()
        victims = [threading.Thread(target=victim, args=(i,)) for i in range(90)]
        for t in victims: t.start()
        for t in victims: t.join(timeout=300)
        self.assertEqual(victim_errors, [])
        # Ten real processes killed with SIGKILL mid-stream.
        code = ("import json,socket,sys,time\ns=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
                "s.sendall((json.dumps({'id':1,'op':'generate','model':'lm','prompt':'again','max_new_tokens':%d,"
                "'ignore_eos':True,'stream':True})+'\\n').encode())\nf=s.makefile('rb')\n"
                "print(json.loads(f.readline())['type'],flush=True)\ntime.sleep(60)\n" % LONG)
        kids = [subprocess.Popen([sys.executable, "-c", code, self.daemon.socket], stdout=subprocess.PIPE)
                for _ in range(10)]
        for k in kids:
            self.assertEqual(k.stdout.readline().strip(), b"token")
            k.kill()
            k.wait()
            k.stdout.close()
        stop.set()
        for t in checkers: t.join(timeout=300)
        self.assertGreater(len(checked), 0)
        for r in checked:
            self.expect_exact(r, ref)
        self.wait_idle(0)
        self.assertLess(self.daemon.rss_mib(), idle + 256, "RSS after the killed clients")

    def test_sighup(self):
        ref = self.reference([200, 201])
        done = threading.Event()

        def hup():
            while not done.is_set():
                self.daemon.proc.send_signal(signal.SIGHUP)
                time.sleep(0.2)
        t = threading.Thread(target=hup)
        t.start()
        try:
            results = self.concurrently([200 + i % 2 for i in range(16)], rounds=2)
        finally:
            done.set()
            t.join()
        for r in results:
            self.expect_exact(r, ref)
        self.assertIsNone(self.daemon.proc.poll(), "the daemon exited on SIGHUP")
        self.wait_idle(0)

    def test_sigterm(self):
        conns, finals = [], {}
        for i in range(16):
            c = Lines(self.daemon.socket)
            c.send({"id": f"t{i}", "op": "generate", "model": "lm", "prompt": "the end", "max_new_tokens": LONG,
                    "ignore_eos": True, "stream": True})
            self.assertEqual(c.read()["type"], "token")
            conns.append((i, c))
        start = time.time()
        self.daemon.proc.send_signal(signal.SIGTERM)
        for i, c in conns:
            count = 0
            try:
                while True:
                    msg = c.read()
                    self.assertEqual(msg["id"], f"t{i}")
                    if msg["type"] in FINAL:
                        count += 1
                        finals[i] = msg
            except EOFError:
                pass
            self.assertEqual(count, 1, f"request t{i}: {count} final lines")
        for i, m in finals.items():
            if m["type"] == "error":
                self.assertIn(m["error"]["code"], ("shutting_down", "cancelled"), m)
        rc = self.daemon.proc.wait(timeout=90)
        self.assertEqual(rc, 0, self.daemon.log_text())
        self.assertLess(time.time() - start, 90)

    def test_neverread(self):
        self.daemon.stop()
        self.daemon = Daemon("--max-connection-reply-mib", "1", "--max-reply-mib", "4")
        self.addCleanup(self.daemon.stop)
        ref = self.reference([300])
        idle = self.daemon.rss_mib()
        text = " responsibility" * ((256 << 10) // 15)   # one token per 15 bytes: cheap to tokenize
        per_client = 7
        stalled = []
        for c in range(4):
            conn = Lines(self.daemon.socket)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)   # the kernel holds little
            payload = b"".join((json.dumps({"id": f"n{c}-{i}", "op": "tokenize", "model": "lm", "text": text}) + "\n").encode()
                               for i in range(per_client))
            conn.sock.setblocking(False)
            stalled.append([conn, payload, 0])
        quiet = time.time()
        while time.time() - quiet < 2.5 and any(sent < len(p) for _, p, sent in stalled):
            for entry in stalled:
                conn, payload, sent = entry
                try:
                    n = conn.sock.send(payload[sent:sent + (1 << 20)]) if sent < len(payload) else 0
                except BlockingIOError:
                    n = 0
                if n:
                    entry[2] += n
                    quiet = time.time()
            time.sleep(0.02)
        for _, payload, sent in stalled:
            self.assertLess(sent, len(payload), "the daemon kept reading a client that never reads")
        # Others are served exactly meanwhile, and the daemon's memory stays bounded.
        for r in self.concurrently([300, 300]):
            self.expect_exact(r, ref)
        self.assertLess(self.daemon.rss_mib(), idle + 256, "RSS with 4 clients that never read")
        # Once they read, every request gets exactly one final line.
        errors = []

        def drain(entry, c):
            conn, payload, sent = entry
            try:
                conn.sock.setblocking(True)
                conn.sock.settimeout(READ_TIMEOUT)
                sender = threading.Thread(target=conn.sock.sendall, args=(payload[sent:],))
                sender.start()
                ids = []
                while len(ids) < per_client:
                    msg = conn.read()
                    if msg["type"] != "result":
                        raise AssertionError(f"client {c}: {msg}")
                    ids.append(msg["id"])
                sender.join()
                if sorted(ids) != sorted(f"n{c}-{i}" for i in range(per_client)):
                    raise AssertionError(f"client {c}: answers {ids}")
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=drain, args=(entry, c)) for c, entry in enumerate(stalled)]
        for t in threads: t.start()
        for t in threads: t.join(timeout=600)
        self.assertEqual(errors, [])
        for conn, _, _ in stalled:
            conn.close()
        self.wait_idle(0)

    def test_truncated(self):
        self.daemon.stop()
        root = tempfile.mkdtemp(prefix="gpt2d-fault-")
        copy = os.path.join(root, "lm2")
        shutil.copytree(TINY, copy)
        weights = os.path.join(copy, "model.safetensors")
        with open(weights, "rb") as f:
            original = f.read()
        self.daemon = Daemon("--model", f"lm2={copy}", make_dir=root)
        self.addCleanup(self.daemon.stop)
        ref = self.reference([400])
        probe = {"op": "generate", "model": "lm2", "prompt": "a truncated story", "max_new_tokens": 8}
        c = Lines(self.daemon.socket)
        whole, _ = c.call({"id": "before", **probe})
        self.assertEqual(whole["type"], "result", whole)
        done = threading.Event()
        results = []

        def others(seed):
            while not done.is_set():
                results.append(run_client(self.daemon, seed))
        threads = [threading.Thread(target=others, args=(400,)) for i in range(4)]
        for t in threads: t.start()
        try:
            with open(weights, "r+b") as f:   # in place: the mapping sees it
                f.truncate(4096)
            deadline = time.time() + 30
            while True:
                msg, _ = c.call({"id": "during", **probe})
                if msg["type"] == "error" and msg["error"]["code"] == "model_unavailable":
                    break
                self.assertLess(time.time(), deadline, f"the truncated model still answers: {msg}")
                time.sleep(0.05)
            with open(weights, "r+b") as f:   # whole again: the same bytes written back in place
                f.write(original)
            deadline = time.time() + 30
            while True:
                msg, _ = c.call({"id": "after", **probe})
                if msg["type"] == "result":
                    break
                self.assertLess(time.time(), deadline, f"the model did not come back: {msg}")
                time.sleep(0.2)
            self.assertEqual(msg["tokens"], whole["tokens"], "after the repair the model answers as before")
        finally:
            done.set()
            for t in threads: t.join(timeout=300)
        c.close()
        self.assertIsNone(self.daemon.proc.poll(), "the daemon died")
        self.assertGreater(len(results), 0)
        for r in results:
            self.expect_exact(r, ref)
        self.wait_idle(0)


if __name__ == "__main__":
    unittest.main()
