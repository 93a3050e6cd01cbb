#!/usr/bin/env python3
"""Durable sessions (issue #15 points 1 and 5) against the real gpt2d binary with a state folder.

"Acknowledged" below means the client read the request's `result` line. After every restart each
acknowledged session must be there with exactly its acknowledged history — or, when a request on it
was in flight at the kill, with the history that request would have left (its write may have
committed before its reply was sent) — and must continue token-identically: greedy `generate` on the
restored session equals a session-less `generate` on the whole history. Closed (acknowledged)
sessions must be gone.

Scenarios (bounded: well under a minute on the tiny fixture):
  sigkill     50 trials (GPT2D_DURABILITY_TRIALS): 3 clients converse in sessions (plain and streamed
              generate, some closes) while SIGKILL lands at a random moment; restart, check, repeat
  sigterm     SIGTERM while 4 session generations stream: each gets one final line, exit 0, and the
              acknowledged histories are there after the restart
  damaged     a bit flipped in one row of sessions.sqlite → that session is dropped with a log line,
              the other restored; the file truncated → moved aside with a log line, the daemon serves
  fulldisk    the state folder "full": the daemon runs under RLIMIT_FSIZE (SIGXFSZ ignored), so a WAL
              write past the limit fails with EFBIG, as on a full file system (an unprivileged run
              cannot mount a small tmpfs). Session changes then fail with storage_unavailable and
              leave the session as it was; session-less requests, health and tokenize still answer;
              after a restart without the limit every acknowledged history is intact

Standard library only. Usage (scripts/test.sh runs it):
  GPT2D_BIN=.build/debug/gpt2d python3 scripts/session_durability.py [-v] [-k name]
"""
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_suite import GPT2D_BIN, TINY, Lines  # noqa: E402  (the same binary, fixture and connection)

TRIALS = int(os.environ.get("GPT2D_DURABILITY_TRIALS", "50"))
MAX_HISTORY = 96  # the tiny model has 128 positions: conversations stop before that


class StatefulDaemon:
    """gpt2d serving the tiny LM as "lm" with `state_dir` = `state` (kept across restarts)."""

    def __init__(self, state, fsize_limit=None):
        self.dir = tempfile.mkdtemp(prefix="gpt2d-dur-")
        self.socket = os.path.join(self.dir, "gpt2d.sock")
        conf = os.path.join(self.dir, "gpt2d.conf")
        open(conf, "w").close()
        args = [GPT2D_BIN, "--socket", self.socket, "--config", conf, "--threads", "1", "--log-level", "info",
                "--max-sessions", "4096", "--max-sessions-per-user", "4096", "--session-idle-timeout-s", "86400",
                "--model", f"lm={TINY}", "--state-dir", state]

        def limit():
            # Ignored SIGXFSZ survives exec: a write past the limit fails with EFBIG instead of killing.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_limit, fsize_limit))

        self.log_path = os.path.join(self.dir, "gpt2d.log")
        self.log = open(self.log_path, "w")
        # The limit applies to the log file too; it stays far below it.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=limit if fsize_limit else None, restore_signals=not fsize_limit)
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
                time.sleep(0.02)
        raise RuntimeError("gpt2d did not come up")

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.cleanup()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.cleanup()
        return rc

    def cleanup(self):
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def greedy(conn, rid, tokens, max_new, session=None, stream=False):
    """One greedy generate; returns (final line, generated tokens)."""
    req = {"id": rid, "op": "generate", "model": "lm", "tokens": tokens, "max_new_tokens": max_new, "stream": stream}
    if session:
        req["session"] = session
    final, _ = conn.call(req)
    return final, final.get("tokens", [])


class Conversation:
    """One client's session: what was acknowledged, and what was in flight when the daemon died."""

    def __init__(self):
        self.session = None
        self.acked = []        # acknowledged history
        self.inflight = None   # (prompt, max_new) of the request without a reply
        self.closed = False

    def run(self, path, rng, stop):
        c = None
        try:
            c = Lines(path)
            r, _ = c.call({"id": "open", "op": "session.open", "model": "lm"})
            if r["type"] != "result":
                return
            self.session = r["session"]
            n = 0
            while not stop.is_set() and len(self.acked) < MAX_HISTORY - 12:
                if n > 0 and rng.random() < 0.05:
                    self.inflight = ("close", 0)
                    r, _ = c.call({"id": "close", "op": "session.close", "session": self.session})
                    if r["type"] == "result":
                        self.closed, self.inflight = True, None
                    return
                prompt = [rng.randrange(50000) for _ in range(rng.randint(1, 3))]
                max_new = rng.randint(1, 6)
                self.inflight = (prompt, max_new)
                r, generated = greedy(c, f"g{n}", prompt, max_new, self.session, stream=rng.random() < 0.5)
                if r["type"] != "result":
                    return
                self.acked += prompt + generated
                self.inflight = None
                n += 1
        except (OSError, EOFError, ValueError):
            return  # the daemon died: self.inflight says what had no reply
        finally:
            if c:
                c.close()


class DurabilityTests(unittest.TestCase):
    def setUp(self):
        self.state = tempfile.mkdtemp(prefix="gpt2d-state-")
        self.addCleanup(shutil.rmtree, self.state, True)

    def check(self, daemon, conversations):
        """Every acknowledged conversation is there and continues exactly; closed ones are gone."""
        c = Lines(daemon.socket)
        for i, conv in enumerate(conversations):
            if conv.session is None:
                continue
            info, _ = c.call({"id": "i", "op": "session.info", "session": conv.session})
            if conv.closed:
                self.assertEqual(info["type"], "error", info)
                self.assertEqual(info["error"]["code"], "unknown_session")
                continue
            if info["type"] == "error":
                # Only an unacknowledged close may have removed it.
                self.assertEqual(conv.inflight, ("close", 0), f"session {conv.session} lost: {info}")
                continue
            candidates = [conv.acked]
            if conv.inflight and conv.inflight[0] != "close":
                prompt, max_new = conv.inflight
                _, gen = greedy(c, "ref-inflight", conv.acked + prompt, max_new)
                candidates.append(conv.acked + prompt + gen)
            history = next((h for h in candidates if len(h) == info["n_tokens"]), None)
            self.assertIsNotNone(history, f"session {conv.session}: {info['n_tokens']} tokens, acknowledged "
                                          f"{len(conv.acked)}, in flight {conv.inflight}")
            _, cont = greedy(c, f"cont{i}", [13], 3, conv.session)
            _, ref = greedy(c, f"ref{i}", history + [13], 3)
            self.assertEqual(cont, ref, f"session {conv.session} continues differently after the restart")
            r, _ = c.call({"id": "x", "op": "session.close", "session": conv.session})
            self.assertEqual(r["type"], "result", r)
        c.close()

    def test_sigkill(self):
        daemon = StatefulDaemon(self.state)
        rng = random.Random(15)
        for trial in range(TRIALS):
            stop = threading.Event()
            convs = [Conversation() for _ in range(3)]
            threads = [threading.Thread(target=cv.run, args=(daemon.socket, random.Random(rng.random()), stop)) for cv in convs]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.02, 0.4))
            daemon.kill()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            daemon = StatefulDaemon(self.state)
            self.check(daemon, convs)
        self.assertEqual(daemon.stop(), 0)

    def test_sigterm(self):
        daemon = StatefulDaemon(self.state)
        convs, conns = [], []
        for i in range(4):
            c = Lines(daemon.socket)
            r, _ = c.call({"id": "o", "op": "session.open", "model": "lm"})
            conv = Conversation()
            conv.session = r["session"]
            _, gen = greedy(c, "first", [464, 3290], 4, conv.session)
            conv.acked = [464, 3290] + gen
            c.send({"id": "long", "op": "generate", "model": "lm", "tokens": [11], "max_new_tokens": 60,
                    "ignore_eos": True, "stream": True, "session": conv.session})
            self.assertEqual(c.read()["type"], "token")
            conv.inflight = ([11], 60)
            convs.append(conv)
            conns.append(c)
        daemon.proc.send_signal(signal.SIGTERM)
        for conv, c in zip(convs, conns):
            finals = []
            try:
                while True:
                    msg = c.read()
                    if msg["type"] in ("result", "error"):
                        finals.append(msg)
            except (EOFError, OSError):
                pass
            c.close()
            self.assertEqual(len(finals), 1, finals)
            if finals[0]["type"] == "result":
                conv.acked += [11] + finals[0]["tokens"]
                conv.inflight = None
        self.assertEqual(daemon.stop(), 0, "SIGTERM exits 0")
        daemon = StatefulDaemon(self.state)
        self.check(daemon, convs)
        self.assertEqual(daemon.stop(), 0)

    def test_damaged(self):
        daemon = StatefulDaemon(self.state)
        c = Lines(daemon.socket)
        sessions = []
        for marker in (41111, 42222):
            r, _ = c.call({"id": "o", "op": "session.open", "model": "lm"})
            greedy(c, "g", [marker] * 6, 1, r["session"])
            sessions.append(r["session"])
        c.close()
        self.assertEqual(daemon.stop(), 0)
        path = os.path.join(self.state, "sessions.sqlite")
        data = bytearray(open(path, "rb").read())
        at = data.find((42222).to_bytes(4, "little") * 6)
        self.assertGreater(at, 0, "the second session's history is in the main file after a clean stop")
        data[at + 9] ^= 0x04
        open(path, "wb").write(data)

        daemon = StatefulDaemon(self.state)
        c = Lines(daemon.socket)
        kept, _ = c.call({"id": "a", "op": "session.info", "session": sessions[0]})
        dropped, _ = c.call({"id": "b", "op": "session.info", "session": sessions[1]})
        self.assertEqual(kept["type"], "result")
        self.assertEqual(kept["n_tokens"], 7)
        self.assertEqual(dropped["error"]["code"], "unknown_session")
        self.assertIn("damaged session record dropped", daemon.log_text())
        c.close()
        self.assertEqual(daemon.stop(), 0)

        with open(path, "r+b") as f:
            f.truncate(4096 + 100)
        daemon = StatefulDaemon(self.state)
        self.assertIn("state database unreadable", daemon.log_text())
        c = Lines(daemon.socket)
        r, _ = c.call({"id": "o", "op": "session.open", "model": "lm"})
        self.assertEqual(r["type"], "result", r)
        c.close()
        self.assertEqual(daemon.stop(), 0)
        self.assertTrue(any(n.startswith("sessions.sqlite.damaged-") for n in os.listdir(self.state)))

    def test_fulldisk(self):
        daemon = StatefulDaemon(self.state, fsize_limit=160 << 10)
        c = Lines(daemon.socket)
        convs, failed = [], None
        for n in range(400):
            if n % 8 == 0:
                r, _ = c.call({"id": "o", "op": "session.open", "model": "lm"})
                if r["type"] == "error":
                    self.assertEqual(r["error"]["code"], "storage_unavailable", r)
                    failed = r
                    break
                conv = Conversation()
                conv.session = r["session"]
                convs.append(conv)
            conv = convs[-1]
            prompt = [(n * 37) % 50000, 7]
            r, gen = greedy(c, f"g{n}", prompt, 2, conv.session)
            if r["type"] == "error":
                self.assertEqual(r["error"]["code"], "storage_unavailable", r)
                failed = r
                info, _ = c.call({"id": "i", "op": "session.info", "session": conv.session})
                self.assertEqual(info["n_tokens"], len(conv.acked), "a failed write leaves the history as it was")
                self.assertFalse(info["busy"])
                break
            conv.acked += prompt + gen
        self.assertIsNotNone(failed, "the limit was never reached")
        # Nothing else breaks.
        for req in ({"id": "h", "op": "health"}, {"id": "t", "op": "tokenize", "model": "lm", "text": "still here"}):
            r, _ = c.call(req)
            self.assertEqual(r["type"], "result", r)
        r, _ = greedy(c, "plain", [464, 3290], 3)
        self.assertEqual(r["type"], "result", r)
        c.close()
        log = daemon.log_text()
        self.assertEqual(daemon.stop(), 0)
        self.assertIn("session state write failed", log)
        daemon = StatefulDaemon(self.state)
        self.check(daemon, convs)
        self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
