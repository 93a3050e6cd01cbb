"""Tests of gpt2d_client against the real gpt2d binary serving the tiny-gpt2 fixture (stdlib unittest).

    GPT2D_BIN=.build/debug/gpt2d python3 -m unittest -v Clients/python/test_gpt2d_client.py
    scripts/test-python-client.sh     # builds gpt2d first, then runs these

The daemon is started once for the whole module on a temporary socket and stopped (SIGTERM) at the end.
"""

import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from gpt2d_client import Client, ConnectionClosed, DaemonError  # noqa: E402

GPT2D_BIN = os.environ.get("GPT2D_BIN") or os.path.join(ROOT, ".build", "debug", "gpt2d")
TINY = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-gpt2")
MODEL = "tiny"


def read_int64_tensors(path):
    """The I64 tensors of a safetensors file: u64 LE header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info.get("dtype") != "I64":
            continue
        start, end = info["data_offsets"]
        raw = data[8 + n + start:8 + n + end]
        out[name] = list(struct.unpack("<%dq" % (len(raw) // 8), raw))
    return out


GOLDEN = read_int64_tensors(os.path.join(TINY, "golden.safetensors"))
LONG_PROMPT = GOLDEN["greedy.prompt"]  # greedy decoding runs 64 tokens from it without <|endoftext|>

_daemon = None
_socket = None
_tmpdir = None


def setUpModule():
    global _daemon, _socket, _tmpdir
    if not os.access(GPT2D_BIN, os.X_OK):
        raise RuntimeError("gpt2d binary not found at %s (swift build --product gpt2d, or set GPT2D_BIN)" % GPT2D_BIN)
    _tmpdir = tempfile.mkdtemp(prefix="gpt2d-py-")
    _socket = os.path.join(_tmpdir, "gpt2d.sock")
    with open(os.path.join(_tmpdir, "gpt2d.log"), "w") as log:
        _daemon = subprocess.Popen(
            [GPT2D_BIN, "--socket", _socket, "--model", "%s=%s" % (MODEL, TINY), "--threads", "1",
             "--log-level", "warning"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if _daemon.poll() is not None:
            raise RuntimeError("gpt2d exited with %s; log: %s" % (_daemon.returncode, _log()))
        try:
            with Client(_socket, timeout=5) as c:
                c.health()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gpt2d did not come up; log: %s" % _log())


def _log():
    try:
        with open(os.path.join(_tmpdir, "gpt2d.log")) as f:
            return f.read()
    except OSError:
        return ""


def tearDownModule():
    if _daemon is not None and _daemon.poll() is None:
        _daemon.send_signal(signal.SIGTERM)
        try:
            _daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _daemon.kill()
            _daemon.wait()
    shutil.rmtree(_tmpdir, ignore_errors=True)


def wait_until(predicate, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class ClientTests(unittest.TestCase):
    def setUp(self):
        self.c = Client(_socket, timeout=60)

    def tearDown(self):
        self.c.close()

    def test_health(self):
        h = self.c.health()
        self.assertEqual(h["type"], "result")
        self.assertEqual(h["status"], "ok")
        self.assertEqual(h["protocol_version"], 1)
        self.assertGreaterEqual(h["uptime_seconds"], 0)

    def test_models(self):
        models = self.c.models()
        self.assertEqual([m["name"] for m in models], [MODEL])
        m = models[0]
        self.assertEqual(m["architecture"], "GPT2LMHeadModel")
        self.assertEqual((m["n_layer"], m["n_embd"], m["n_head"], m["n_positions"], m["vocab_size"]),
                         (2, 32, 4, 128, 50257))
        self.assertIn("generate", m["tasks"])

    def test_tokenize_detokenize_round_trip_with_offsets(self):
        r = self.c.tokenize(MODEL, "Hello world")
        self.assertEqual(r["tokens"], [15496, 995])
        self.assertEqual(r["offsets"], [[0, 5], [5, 11]])
        ascii_text = "Hello world, how are   you?"
        r = self.c.tokenize(MODEL, ascii_text)
        self.assertEqual("".join(ascii_text[s:e] for s, e in r["offsets"]), ascii_text)
        self.assertEqual(self.c.detokenize(MODEL, r["tokens"]), ascii_text)
        text = "Grüße, 世界! 🙂 ok"
        r = self.c.tokenize(MODEL, text)
        self.assertEqual(len(r["tokens"]), len(r["offsets"]))
        # Offsets are code points (Python's str indices); tokens holding part of one character's bytes
        # share that character's span, as in transformers' offset_mapping.
        self.assertEqual(r["offsets"][0][0], 0)
        self.assertEqual(r["offsets"][-1][1], len(text))
        self.assertTrue(all(s < e for s, e in r["offsets"]))
        self.assertEqual(text[r["offsets"][-1][0]:], " ok")
        self.assertEqual(self.c.detokenize(MODEL, r["tokens"]), text)
        self.assertEqual(self.c.detokenize(MODEL, [15496, 50256], skip_special_tokens=True), "Hello")

    def test_greedy_generate_equals_golden(self):
        prompt, output = GOLDEN["greedy.prompt"], GOLDEN["greedy.output"]
        expected = output[len(prompt):]
        r = self.c.generate(MODEL, tokens=prompt, max_new_tokens=len(expected))
        self.assertEqual(r["tokens"], expected)
        self.assertEqual(r["finish_reason"], "length")
        self.assertEqual(r["usage"]["prompt_tokens"], len(prompt))
        self.assertEqual(r["usage"]["completion_tokens"], len(expected))
        self.assertEqual(r["text"], self.c.detokenize(MODEL, expected))

    def test_streaming_concatenates_to_result(self):
        events = list(self.c.generate(MODEL, "Hello, I'm a language model", stream=True, max_new_tokens=16,
                                      logprobs=True))
        tokens, result = events[:-1], events[-1]
        self.assertEqual(result["type"], "result")
        self.assertTrue(all(e["type"] == "token" for e in tokens))
        self.assertEqual([e["index"] for e in tokens], list(range(len(tokens))))
        self.assertEqual([e["token"] for e in tokens], result["tokens"])
        self.assertEqual("".join(e["text"] for e in tokens), result["text"])
        self.assertEqual(len(result["logprobs"]), len(result["tokens"]))
        plain = self.c.generate(MODEL, "Hello, I'm a language model", max_new_tokens=16)
        self.assertEqual(plain["tokens"], result["tokens"])

    def test_score(self):
        text = "The cat sat on the mat."
        r = self.c.score(MODEL, text, top_logprobs=2)
        self.assertEqual(r["tokens"], self.c.tokenize(MODEL, text)["tokens"])
        self.assertIsNone(r["logprobs"][0])
        rest = r["logprobs"][1:]
        self.assertTrue(all(lp is not None and lp <= 0 for lp in rest))
        self.assertAlmostEqual(r["perplexity"], math.exp(-sum(rest) / len(rest)), delta=r["perplexity"] * 1e-3)
        self.assertIsNone(r["top_logprobs"][0])
        self.assertTrue(all(len(row) == 2 for row in r["top_logprobs"][1:]))
        self.assertIsNone(self.c.score(MODEL, tokens=[464])["perplexity"])

    def test_sessions(self):
        s = self.c.session_open(MODEL)
        sid = s["session"]
        self.assertEqual(s["model"], MODEL)
        self.assertEqual(s["n_tokens"], 0)
        self.assertIn(sid, [x["session"] for x in self.c.session_list()])
        first = self.c.generate(MODEL, "Once upon a time", session=sid, max_new_tokens=4)
        self.assertEqual(first["usage"]["cached_tokens"], 0)
        self.assertGreater(self.c.session_info(sid)["n_tokens"], 0)
        second = self.c.generate(MODEL, "Once upon a time", session=sid, max_new_tokens=4)
        self.assertGreater(second["usage"]["cached_tokens"], 0)
        # PROTOCOL.md §3: the input is appended to the session's history; same result as sending it all.
        prompt = self.c.tokenize(MODEL, "Once upon a time")["tokens"]
        context = prompt + first["tokens"] + prompt
        self.assertEqual(second["usage"]["prompt_tokens"], len(context))
        self.assertEqual(second["tokens"], self.c.generate(MODEL, tokens=context, max_new_tokens=4)["tokens"])
        closed = self.c.session_close(sid)
        self.assertEqual(closed["session"], sid)
        self.assertTrue(closed["closed"])
        with self.assertRaises(DaemonError) as cm:
            self.c.session_info(sid)
        self.assertEqual(cm.exception.code, "unknown_session")

    def test_error_codes(self):
        with self.assertRaises(DaemonError) as cm:
            self.c.generate("no-such-model", "x")
        self.assertEqual(cm.exception.code, "unknown_model")
        with self.assertRaises(DaemonError) as cm:
            self.c.generate(MODEL, "x", top_p=1.5)
        self.assertEqual((cm.exception.code, cm.exception.field), ("invalid_field", "top_p"))
        with self.assertRaises(DaemonError) as cm:
            self.c.request("tokenize", text="x")
        self.assertEqual((cm.exception.code, cm.exception.field), ("missing_field", "model"))
        with self.assertRaises(DaemonError) as cm:
            self.c.request("frobnicate")
        self.assertEqual(cm.exception.code, "unknown_op")
        with self.assertRaises(DaemonError) as cm:
            self.c.generate(MODEL, "x", max_new_tokens=1000)
        self.assertEqual(cm.exception.code, "context_overflow")
        self.assertEqual(self.c.health()["status"], "ok")  # the connection survives errors

    def test_missing_socket(self):
        with self.assertRaises(FileNotFoundError):
            Client(os.path.join(_tmpdir, "nope.sock")).health()

    def test_concurrent_requests_on_one_connection(self):
        prompts = ["Request %d says" % i for i in range(8)]
        expected = {p: self.c.generate(MODEL, p, max_new_tokens=10)["tokens"] for p in prompts}
        results, errors = {}, []

        def worker(p):
            try:
                results[p] = self.c.generate(MODEL, p, max_new_tokens=10)["tokens"]
                toks = [e["token"] for e in self.c.generate(MODEL, p, stream=True, max_new_tokens=10)
                        if e["type"] == "token"]
                self.assertEqual(toks, results[p])
            except Exception as e:  # noqa: BLE001 — reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(p,)) for p in prompts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(results, expected)
        self.assertEqual(self.c.stats()["connections"], 1)

    def test_metrics_is_the_prometheus_text(self):
        self.c.stats()
        text = self.c.metrics()
        self.assertIn("# TYPE gpt2d_build_info gauge\n", text)
        self.assertRegex(text, r'\ngpt2d_requests_total\{listener="jsonl",op="stats",outcome="ok"\} [1-9]')

    def test_leaving_a_stream_early_cancels_it(self):
        before = self.c.stats()["completion_tokens_total"]
        for event in self.c.generate(MODEL, tokens=LONG_PROMPT, stream=True, max_new_tokens=64):
            self.assertEqual(event["type"], "token")
            break
        self.assertTrue(wait_until(lambda: self.c.stats()["requests_active"] <= 1))
        self.assertLess(self.c.stats()["completion_tokens_total"] - before, 64)

    def test_cancel_by_id(self):
        stream = self.c.generate(MODEL, tokens=LONG_PROMPT, stream=True, max_new_tokens=64, request_id="long")
        self.assertEqual(next(stream)["type"], "token")
        self.assertTrue(self.c.cancel("long"))
        with self.assertRaises(DaemonError) as cm:
            for _ in stream:
                pass
        self.assertEqual(cm.exception.code, "cancelled")
        self.assertFalse(self.c.cancel("not-in-flight"))

    def test_timeout(self):
        with self.assertRaises(TimeoutError):
            self.c.generate(MODEL, tokens=LONG_PROMPT, max_new_tokens=64, timeout=0.0001)
        self.assertTrue(wait_until(lambda: self.c.stats()["requests_active"] <= 1))

    def test_stats(self):
        s = self.c.stats()
        for key in ("uptime_seconds", "connections", "requests_active", "queue_depth", "requests_total",
                    "errors_total", "prompt_tokens_total", "completion_tokens_total", "sessions"):
            self.assertIn(key, s)
        self.assertGreaterEqual(s["connections"], 1)

    def test_socket_from_environment(self):
        old = os.environ.get("GPT2D_SOCKET")
        os.environ["GPT2D_SOCKET"] = _socket
        try:
            with Client() as c:
                self.assertEqual(c.socket_path, _socket)
                self.assertEqual(c.health()["status"], "ok")
        finally:
            if old is None:
                del os.environ["GPT2D_SOCKET"]
            else:
                os.environ["GPT2D_SOCKET"] = old

    def test_connection_closed(self):
        # The daemon going away under a request that is in flight (its first token has arrived):
        # that request fails with ConnectionClosed instead of hanging. (Closing between requests
        # would race with the client's reconnect-on-next-request.)
        c = Client(_socket)
        events = c.generate(MODEL, tokens=LONG_PROMPT, max_new_tokens=100, stream=True)
        first = next(events)
        self.assertEqual(first["type"], "token")
        c._sock.shutdown(2)
        with self.assertRaises((ConnectionClosed, OSError)):
            for _ in events:
                pass
        c.close()


TASKS = os.path.join(ROOT, "Tests", "Fixtures", "tasks")


def load_golden(name):
    with open(os.path.join(TASKS, name, "golden.json"), encoding="utf-8") as f:
        return json.load(f)


class LifecycleTests(unittest.TestCase):
    """Named sessions, idle time-outs, forks, session.list's sizes and totals; models.load / unload and
    the listing's loaded / keep_alive_s (the tests run as root, the daemon's admin). Leaves the module daemon as it found it."""

    def setUp(self):
        self.c = Client(_socket, timeout=60)
        self.addCleanup(self.c.close)  # cleanups run last-in first-out: after the ones the tests add

    def test_named_sessions_fork_and_sizes(self):
        s = self.c.session_open(MODEL, name="py-chat", idle_timeout_s=45)
        self.addCleanup(self.c.session_close, s["session"])
        self.assertEqual((s["name"], s["idle_timeout_s"], s["created"]), ("py-chat", 45, True))
        again = self.c.session_open(MODEL, name="py-chat")
        self.assertEqual((again["session"], again["created"]), (s["session"], False))
        g = self.c.generate(MODEL, "Hello there", session=s["session"], max_new_tokens=3)
        n = g["usage"]["prompt_tokens"] + len(g["tokens"])
        fork = self.c.session_fork(s["session"], name="py-branch")
        self.addCleanup(self.c.session_close, fork["session"])
        self.assertNotEqual(fork["session"], s["session"])
        self.assertEqual((fork["name"], fork["n_tokens"], fork["model"]), ("py-branch", n, MODEL))
        mine = {x["session"]: x for x in self.c.session_list()}
        self.assertEqual(mine[s["session"]]["bytes"], 4 * n)
        self.assertGreaterEqual(mine[s["session"]]["kv_bytes"], 0)
        self.assertGreaterEqual(mine[s["session"]]["last_used_at"], mine[s["session"]]["created_at"])
        totals = self.c.session_totals()
        self.assertEqual(totals["sessions"], len(mine))
        self.assertEqual(totals["bytes"], sum(x["bytes"] for x in mine.values()))
        self.assertGreater(totals["max_sessions_per_user"], 0)
        with self.assertRaises(DaemonError) as cm:
            self.c.session_open(MODEL, idle_timeout_s=1e9)
        self.assertEqual((cm.exception.code, cm.exception.field), ("invalid_field", "idle_timeout_s"))

    def test_models_load_list_and_unload(self):
        r = self.c.models_load("py-extra", TINY, keep_alive_s=300)
        self.addCleanup(lambda: self.c.models_unload("py-extra") if any(
            m["name"] == "py-extra" for m in self.c.models()) else None)
        self.assertEqual((r["model"]["name"], r["model"]["loaded"], r["model"]["keep_alive_s"]), ("py-extra", True, 300))
        self.assertGreater(r["load_seconds"], 0)
        with self.assertRaises(DaemonError) as cm:
            self.c.models_load("py-extra", TINY)
        self.assertEqual(cm.exception.code, "model_exists")
        with self.assertRaises(DaemonError) as cm:
            self.c.models_load("py-bad", "/nonexistent/gpt2d-model")
        self.assertEqual((cm.exception.code, cm.exception.field), ("model_load_failed", "directory"))

        # Listed with loaded / keep_alive_s / last_used_at; it serves. (The wait of a request for a model
        # keep_alive unloaded is tested in the Swift suites: ModelLoadUnloadTests.)
        extra = next(m for m in self.c.models() if m["name"] == "py-extra")
        self.assertEqual((extra["loaded"], extra["keep_alive_s"]), (True, 300))
        self.assertGreater(extra["last_used_at"], 0)
        self.assertEqual(self.c.tokenize("py-extra", "Hello world")["tokens"], [15496, 995])

        u = self.c.models_unload("py-extra", drain_timeout_s=5)
        self.assertEqual((u["name"], u["unloaded"], u["stopped_requests"]), ("py-extra", True, 0))
        self.assertNotIn("py-extra", [m["name"] for m in self.c.models()])
        with self.assertRaises(DaemonError) as cm:
            self.c.models_unload("py-extra")
        self.assertEqual(cm.exception.code, "unknown_model")


def as_list(expected):
    """A golden's expected value as a list (the pipeline answers a single dict without top_k)."""
    return expected if isinstance(expected, list) else [expected]


class TaskOpTests(unittest.TestCase):
    """classify / tag / qa / choose / embed against a second gpt2d serving the task fixtures."""

    TOL = 1e-4

    @classmethod
    def setUpClass(cls):
        cls.tmpdir = tempfile.mkdtemp(prefix="gpt2d-py-tasks-")
        cls.socket = os.path.join(cls.tmpdir, "gpt2d.sock")
        models = [("cls", "seqcls-pad-eos"), ("tok", "tokcls"), ("qa", "qa"), ("mc", "double-heads")]
        args = [GPT2D_BIN, "--socket", cls.socket, "--model", "lm=%s" % TINY, "--threads", "1", "--log-level", "warning"]
        for name, fixture in models:
            args += ["--model", "%s=%s" % (name, os.path.join(TASKS, fixture))]
        cls.log = open(os.path.join(cls.tmpdir, "gpt2d.log"), "w")
        cls.daemon = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if cls.daemon.poll() is not None:
                raise RuntimeError("gpt2d exited with %s" % cls.daemon.returncode)
            try:
                with Client(cls.socket, timeout=5) as c:
                    c.health()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("gpt2d (task fixtures) did not come up")

    @classmethod
    def tearDownClass(cls):
        if cls.daemon.poll() is None:
            cls.daemon.send_signal(signal.SIGTERM)
            try:
                cls.daemon.wait(timeout=15)
            except subprocess.TimeoutExpired:
                cls.daemon.kill()
                cls.daemon.wait()
        cls.log.close()
        shutil.rmtree(cls.tmpdir, ignore_errors=True)

    def setUp(self):
        self.c = Client(self.socket, timeout=60)

    def tearDown(self):
        self.c.close()

    def assertNear(self, got, want, what=""):
        self.assertIsNotNone(got, what)
        self.assertLessEqual(abs(got - want), self.TOL * max(1.0, abs(want)), "%s: %r vs %r" % (what, got, want))

    def test_classify(self):
        g = load_golden("seqcls-pad-eos")["cases"]
        best = self.c.classify("cls", g[0]["text"])
        self.assertEqual(len(best), 1)
        self.assertEqual(best[0]["label"], g[0]["expected"]["label"])
        self.assertNear(best[0]["score"], g[0]["expected"]["score"])
        every = self.c.classify("cls", g[9]["text"], top_k=0)  # the pipeline's top_k=None
        self.assertEqual([x["label"] for x in every], [x["label"] for x in g[9]["expected"]])
        for x, w in zip(every, g[9]["expected"]):
            self.assertNear(x["score"], w["score"], w["label"])
        raw = self.c.classify("cls", g[36]["text"], function_to_apply="none")
        self.assertNear(raw[0]["score"], g[36]["expected"]["score"])
        batch = self.c.classify("cls", [g[i]["text"] for i in range(4)])
        self.assertEqual([r[0]["label"] for r in batch], [g[i]["expected"]["label"] for i in range(4)])

    def test_tag(self):
        g = load_golden("tokcls")["cases"]
        for i in (0, 12):  # aggregation none, simple
            k = g[i]
            got = self.c.tag("tok", k["text"], aggregation_strategy=k["params"]["aggregation_strategy"])
            want = as_list(k["expected"])
            keys = ("entity", "index") if i == 0 else ("entity_group",)
            for key in keys + ("word", "start", "end"):
                self.assertEqual([e[key] for e in got], [w[key] for w in want], "case %d %s" % (i, key))
            for e, w in zip(got, want):
                self.assertNear(e["score"], w["score"], "case %d" % i)
        self.assertEqual(len(self.c.tag("tok", g[6]["text"], ignore_labels=[])), len(g[6]["expected"]))

    def test_qa(self):
        g = load_golden("qa")["cases"]
        for i in (0, 4):
            k = g[i]
            got = self.c.qa("qa", k["question"], k["context"], **k["params"])
            want = as_list(k["expected"])
            self.assertEqual([(a["answer"], a["start"], a["end"]) for a in got],
                             [(w["answer"], w["start"], w["end"]) for w in want], "case %d" % i)
            for a, w in zip(got, want):
                self.assertNear(a["score"], w["score"], "case %d" % i)

    def test_choose(self):
        g = load_golden("double-heads")["cases"]
        for k in g[:2]:
            got = self.c.choose("mc", k["choices"], mc_token_index=k["params"].get("mc_token_ids"))
            self.assertEqual(got["best"], k["expected"]["best"])
            for s, w in zip(got["scores"], k["expected"]["scores"]):
                self.assertNear(s, w)

    def test_embed(self):
        e = load_golden("seqcls-pad-eos")["embed"][0]
        for pooling, normalize, key in (("last", None, "last"), ("mean", None, "mean"), ("mean", True, "mean_normalized")):
            v = self.c.embed("cls", e["text"], pooling=pooling, normalize=normalize)
            self.assertEqual(len(v), len(e[key]))
            for x, w in zip(v, e[key]):
                self.assertNear(x, w, key)
        both = self.c.embed("cls", [e["text"], "Goodbye"])
        self.assertEqual(len(both), 2)
        self.assertEqual(len(self.c.embed("lm", "hi")), 32)  # every model can embed

    def test_unsupported_task(self):
        calls = (
            lambda: self.c.classify("lm", "hi"),
            lambda: self.c.tag("lm", "hi"),
            lambda: self.c.qa("lm", "who?", "me"),
            lambda: self.c.choose("lm", ["a", "b"]),
        )
        for call in calls:
            with self.assertRaises(DaemonError) as cm:
                call()
            self.assertEqual(cm.exception.code, "unsupported_task")
        self.assertEqual(self.c.health()["status"], "ok")


if __name__ == "__main__":
    unittest.main(verbosity=2)
