"""The official `openai` Python SDK against gpt2d's HTTP listener (HTTP.md), over its Unix socket
(httpx's transport with uds=) and over its loopback TCP socket with a bearer token (plain base_url +
api_key, as any SDK user writes it), and curl on both; every answer is compared with the JSON-lines
protocol's for the same request (Clients/python's stdlib client).

    GPT2D_BIN=.build/debug/gpt2d .build/openai-venv/bin/python -m unittest -v Clients/openai/test_openai_sdk.py
    scripts/test-openai-sdk.sh    # makes the venv (pip install openai), then runs these

One daemon (tiny-gpt2 fixture) serves the whole module, started on temporary sockets, stopped by SIGTERM.
"""

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import openai

try:  # openai 3.x is built on httpx2 (httpx's successor, same API); 1.x/2.x on httpx
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older SDKs
    import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Clients", "python"))

from gpt2d_client import Client  # noqa: E402

GPT2D_BIN = os.environ.get("GPT2D_BIN") or os.path.join(ROOT, ".build", "debug", "gpt2d")
TINY = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-gpt2")
MODEL = "tiny"

_daemon = None
_tmpdir = None
_socket = None
_http = None
_port = None
TOKEN = "sdk-test-" + "0123456789abcdef" * 3   # the tokens file's one token (principal "sdk")


def _log():
    with open(os.path.join(_tmpdir, "gpt2d.log")) as f:
        return f.read()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule():
    global _daemon, _tmpdir, _socket, _http, _port
    _tmpdir = tempfile.mkdtemp(prefix="gpt2d-oai-")
    _socket = os.path.join(_tmpdir, "gpt2d.sock")
    _http = os.path.join(_tmpdir, "http.sock")
    tokens = os.path.join(_tmpdir, "tokens")
    with open(tokens, "w") as f:
        f.write("# principal token\nsdk %s\n" % TOKEN)
    os.chmod(tokens, 0o600)
    _port = _free_port()
    with open(os.path.join(_tmpdir, "gpt2d.log"), "w") as log:
        _daemon = subprocess.Popen(
            [GPT2D_BIN, "--socket", _socket, "--http-socket", _http, "--model", "%s=%s" % (MODEL, TINY),
             "--http-tcp", "127.0.0.1:%d" % _port, "--http-tokens-file", tokens,
             "--threads", "1", "--log-level", "warning"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if _daemon.poll() is not None:
            raise RuntimeError("gpt2d exited with %s; log: %s" % (_daemon.returncode, _log()))
        if os.path.exists(_http):
            try:
                with httpx.Client(transport=httpx.HTTPTransport(uds=_http)) as h:
                    if h.get("http://gpt2d/health").status_code == 200:
                        return
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    raise RuntimeError("gpt2d did not come up; log: %s" % _log())


def tearDownModule():
    if _daemon is not None:
        _daemon.send_signal(signal.SIGTERM)
        try:
            _daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _daemon.kill()
    if _tmpdir:
        shutil.rmtree(_tmpdir, ignore_errors=True)


def sdk():
    """The OpenAI SDK pointed at gpt2d — the README's five lines."""
    return openai.OpenAI(base_url="http://gpt2d/v1", api_key="unused",
                         http_client=httpx.Client(transport=httpx.HTTPTransport(uds=_http)), max_retries=0)


def tcp_sdk(api_key=TOKEN):
    """The SDK as a TCP user writes it: a base URL and an API key (the bearer token)."""
    return openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % _port, api_key=api_key, max_retries=0)


def lines():
    return Client(_socket, timeout=30)


class Completions(unittest.TestCase):
    def test_greedy_equals_json_lines(self):
        with sdk() as c:
            r = c.completions.create(model=MODEL, prompt="Hello, my name is", max_tokens=10, temperature=0)
        with lines() as j:
            g = j.generate(MODEL, prompt="Hello, my name is", max_new_tokens=10)
        self.assertEqual(r.object, "text_completion")
        self.assertEqual([ch.text for ch in r.choices], [g["text"]])
        self.assertEqual(r.usage.completion_tokens, len(g["tokens"]))
        self.assertEqual(r.usage.prompt_tokens, g["usage"]["prompt_tokens"])

    def test_seeded_sampling_n2_equals_json_lines(self):
        with sdk() as c:
            r = c.completions.create(model=MODEL, prompt=[[1, 2, 3, 4]], max_tokens=8, temperature=0.7, top_p=0.95,
                                     seed=1234, n=2, extra_body={"top_k": 40, "repetition_penalty": 1.1})
        with lines() as j:
            g = j.generate(MODEL, tokens=[1, 2, 3, 4], max_new_tokens=8, do_sample=True, temperature=0.7, top_p=0.95,
                           top_k=40, repetition_penalty=1.1, seed=1234, num_return_sequences=2)
        self.assertEqual([ch.index for ch in r.choices], [0, 1])
        self.assertEqual([ch.text for ch in r.choices], [s["text"] for s in g["sequences"]])

    def test_several_prompts(self):
        with sdk() as c:
            r = c.completions.create(model=MODEL, prompt=["The cat", "A dog"], max_tokens=5, temperature=0)
        with lines() as j:
            expected = [j.generate(MODEL, prompt=p, max_new_tokens=5)["text"] for p in ["The cat", "A dog"]]
        self.assertEqual([ch.text for ch in sorted(r.choices, key=lambda ch: ch.index)], expected)

    def test_streamed_equals_plain_and_reports_usage(self):
        with sdk() as c:
            plain = c.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=12, temperature=0)
            chunks = list(c.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=12, temperature=0,
                                               stream=True, stream_options={"include_usage": True}))
        text = "".join(ch.choices[0].text for ch in chunks if ch.choices)
        self.assertEqual(text, plain.choices[0].text)
        finishes = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
        self.assertEqual(finishes, [plain.choices[0].finish_reason])
        self.assertEqual(chunks[-1].choices, [])
        self.assertEqual(chunks[-1].usage.completion_tokens, plain.usage.completion_tokens)

    def test_logprobs_and_echo(self):
        with sdk() as c:
            r = c.completions.create(model=MODEL, prompt="Hello world", max_tokens=4, temperature=0, logprobs=3, echo=True)
        with lines() as j:
            g = j.generate(MODEL, prompt="Hello world", max_new_tokens=4, logprobs=True)
            s = j.score(MODEL, text="Hello world")
        ch = r.choices[0]
        self.assertEqual(ch.text, "Hello world" + g["text"])
        lp = ch.logprobs
        self.assertEqual(len(lp.tokens), len(s["tokens"]) + len(g["tokens"]))
        self.assertIsNone(lp.token_logprobs[0])
        expected = s["logprobs"][1:] + g["logprobs"]
        for got, want in zip(lp.token_logprobs[1:], expected):
            self.assertAlmostEqual(got, want, places=6)
        self.assertTrue(all(len(t) <= 3 for t in lp.top_logprobs[1:]))
        self.assertEqual(lp.text_offset[0], 0)

    def test_stop(self):
        with lines() as j:
            full = j.generate(MODEL, prompt="Hello", max_new_tokens=12)["text"]
        stop = full[2:4]
        self.assertTrue(stop.strip(), "greedy text %r too short to cut" % full)
        with sdk() as c:
            r = c.completions.create(model=MODEL, prompt="Hello", max_tokens=12, temperature=0, stop=[stop])
        with lines() as j:
            g = j.generate(MODEL, prompt="Hello", max_new_tokens=12, stop=[stop])
        self.assertEqual(r.choices[0].text, g["text"])
        self.assertEqual(r.choices[0].finish_reason, "stop")
        self.assertNotIn(stop, r.choices[0].text)

    def test_errors_are_openai_errors(self):
        with sdk() as c:
            with self.assertRaises(openai.NotFoundError) as e:
                c.completions.create(model="nope", prompt="x")
            self.assertEqual(e.exception.body["code"], "model_not_found")
            with self.assertRaises(openai.BadRequestError) as e:
                c.completions.create(model=MODEL, prompt="x", suffix="y")
            self.assertEqual(e.exception.body["param"], "suffix")
            with self.assertRaises(openai.BadRequestError) as e:
                c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
            self.assertIn("/v1/completions", e.exception.body["message"])


class Embeddings(unittest.TestCase):
    def test_float_and_base64_equal_json_lines(self):
        with sdk() as c:
            r = c.embeddings.create(model=MODEL, input=["a cat", "the dog"], encoding_format="float")
            b = c.embeddings.create(model=MODEL, input="a cat", encoding_format="base64")
            t = c.embeddings.create(model=MODEL, input=[[5, 6, 7]])
        with lines() as j:
            e = j.embed(MODEL, ["a cat", "the dog"])
        self.assertEqual([d.embedding for d in r.data], e)
        self.assertEqual(r.usage.prompt_tokens, r.usage.total_tokens)
        # The SDK decodes base64 itself when it asked for floats; asked for base64, it is the raw string.
        raw = base64.b64decode(b.data[0].embedding)
        self.assertEqual(list(struct.unpack("<%df" % (len(raw) // 4), raw)), [struct.unpack("<f", struct.pack("<f", x))[0] for x in e[0]])
        self.assertEqual(len(t.data[0].embedding), len(e[0]))

    def test_dimensions_refused(self):
        with sdk() as c:
            with self.assertRaises(openai.BadRequestError) as e:
                c.embeddings.create(model=MODEL, input="x", dimensions=8)
            self.assertEqual(e.exception.body["param"], "dimensions")


class Models(unittest.TestCase):
    def test_list_and_retrieve(self):
        with sdk() as c:
            self.assertEqual([m.id for m in c.models.list()], [MODEL])
            self.assertEqual(c.models.retrieve(MODEL).owned_by, "gpt2d")
            with self.assertRaises(openai.NotFoundError):
                c.models.retrieve("nope")


class TCP(unittest.TestCase):
    def test_completion_stream_and_embeddings_equal_the_unix_socket(self):
        with tcp_sdk() as c, sdk() as u:
            r = c.completions.create(model=MODEL, prompt="Hello, my name is", max_tokens=10, temperature=0)
            self.assertEqual(r.choices[0].text, u.completions.create(model=MODEL, prompt="Hello, my name is",
                                                                     max_tokens=10, temperature=0).choices[0].text)
            chunks = list(c.completions.create(model=MODEL, prompt="Hello, my name is", max_tokens=10, temperature=0,
                                               stream=True))
            self.assertEqual("".join(ch.choices[0].text for ch in chunks if ch.choices), r.choices[0].text)
            e = c.embeddings.create(model=MODEL, input="The cat sat")
            self.assertEqual(e.data[0].embedding, u.embeddings.create(model=MODEL, input="The cat sat").data[0].embedding)
            self.assertEqual([m.id for m in c.models.list()], [MODEL])

    def test_a_wrong_or_missing_key_is_401(self):
        with tcp_sdk(api_key="not-the-token-not-the-token-not-the-token") as c:
            with self.assertRaises(openai.AuthenticationError) as e:
                c.completions.create(model=MODEL, prompt="Hi", max_tokens=2)
            self.assertEqual(e.exception.status_code, 401)
            self.assertEqual(e.exception.body["code"], "invalid_api_key")
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:%d/v1/models" % _port],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout, "401")
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer " + TOKEN,
                              "http://127.0.0.1:%d/v1/models" % _port], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout, "200")

    def test_the_token_is_never_logged(self):
        self.assertNotIn(TOKEN, _log())


class Curl(unittest.TestCase):
    def curl(self, *args):
        out = subprocess.run(["curl", "-sS", "--unix-socket", _http, *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_completion_and_stream(self):
        body = json.dumps({"model": MODEL, "prompt": "Hello", "max_tokens": 5, "temperature": 0})
        r = json.loads(self.curl("-H", "Content-Type: application/json", "-d", body, "http://gpt2d/v1/completions"))
        with lines() as j:
            self.assertEqual(r["choices"][0]["text"], j.generate(MODEL, prompt="Hello", max_new_tokens=5)["text"])
        stream = self.curl("-N", "-H", "Content-Type: application/json", "-d", body[:-1] + ', "stream": true}',
                           "http://gpt2d/v1/completions")
        events = [e[len("data: "):] for e in stream.split("\n\n") if e.startswith("data: ")]
        self.assertEqual(events[-1], "[DONE]")
        self.assertEqual("".join(json.loads(e)["choices"][0]["text"] for e in events[:-1]), r["choices"][0]["text"])

    def test_health_status_code(self):
        self.assertEqual(self.curl("-o", "/dev/null", "-w", "%{http_code}", "http://gpt2d/health"), "200")
        self.assertEqual(self.curl("-o", "/dev/null", "-w", "%{http_code}", "http://gpt2d/v1/chat/completions",
                                   "-d", "{}"), "400")

    def test_concurrent_clients(self):
        """Several SDK clients at once (their requests share the engine's batches); each equals its own
        JSON-lines answer."""
        prompts = ["one", "two", "three", "four"]
        results = {}

        def run(p):
            with sdk() as c:
                results[p] = c.completions.create(model=MODEL, prompt=p, max_tokens=6, temperature=0).choices[0].text

        threads = [threading.Thread(target=run, args=(p,)) for p in prompts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with lines() as j:
            for p in prompts:
                self.assertEqual(results[p], j.generate(MODEL, prompt=p, max_new_tokens=6)["text"])


if __name__ == "__main__":
    unittest.main()
