"""gpt2d_client — a Python client for gpt2d (PROTOCOL.md, protocol v1). Standard library only, Python 3.9+.

One `Client` is one Unix-socket connection. Requests get client-generated ids and may be in flight
concurrently: a background reader thread reads response lines and routes each to the request with
that id, so any number of threads can share one client.

    from gpt2d_client import Client, DaemonError

    with Client() as c:                                  # $GPT2D_SOCKET or /run/gpt2d/gpt2d.sock
        print(c.generate("gpt2", "Hello, I'm a language model", max_new_tokens=20)["text"])
        for event in c.generate("gpt2", "Hello", stream=True):
            if event["type"] == "token":
                print(event["text"], end="", flush=True)
            else:                                        # the last event: {"type": "result", ...}
                print()

Errors: a daemon error raises `DaemonError` (`code`, `message`, `field`); a missing socket or a refused
connection raises `ConnectionError` subclasses (FileNotFoundError / ConnectionRefusedError from the OS);
a connection lost mid-request raises `ConnectionClosed`; a timeout raises `TimeoutError` (and the
daemon is asked to cancel the request).

Threading: every public method is thread-safe. Results are plain dicts with the protocol's field names
(the response line without "id"); streaming yields dicts with "type" = "token" or "result".
"""

import itertools
import json
import os
import queue
import socket
import threading

__all__ = ["Client", "DaemonError", "ConnectionClosed", "DEFAULT_SOCKET", "SOCKET_ENV"]

DEFAULT_SOCKET = "/run/gpt2d/gpt2d.sock"
SOCKET_ENV = "GPT2D_SOCKET"


class DaemonError(Exception):
    """The daemon answered a request with an error line (PROTOCOL.md §5)."""

    def __init__(self, code, message, field=None):
        super().__init__("%s%s: %s" % (code, " (%s)" % field if field else "", message))
        self.code = code
        self.message = message
        self.field = field


class ConnectionClosed(ConnectionError):
    """The connection ended before the request's final line arrived."""


_CLOSED = object()


class _Pending:
    __slots__ = ("queue", "stream")

    def __init__(self, stream):
        self.queue = queue.Queue()
        self.stream = stream


class Client:
    """A connection to gpt2d. `socket_path`: explicit path, else $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock.

    `timeout` (seconds, or None to wait forever) applies to each request unless a call passes its own.
    The connection opens on the first request (or `connect()`); after it closes, the next request
    reconnects.
    """

    def __init__(self, socket_path=None, timeout=None):
        self.socket_path = socket_path or os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET
        self.timeout = timeout
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sock = None
        self._pending = {}
        self._ids = itertools.count(1)

    # -- connection -------------------------------------------------------------------------------

    def connect(self):
        """Opens the connection now. Raises FileNotFoundError / ConnectionRefusedError / PermissionError."""
        with self._lock:
            self._connect_locked()

    def _connect_locked(self):
        if self._sock is not None:
            return self._sock
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket_path)
        except OSError:
            s.close()
            raise
        self._sock = s
        threading.Thread(target=self._read_loop, args=(s,), name="gpt2d-client-reader", daemon=True).start()
        return s

    def close(self):
        """Closes the connection; requests in flight raise ConnectionClosed (the daemon cancels them)."""
        with self._lock:
            s, self._sock = self._sock, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_loop(self, s):
        buf = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while True:
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    line, buf = buf[:nl].rstrip(b"\r"), buf[nl + 1:]
                    if line.strip():
                        self._route(line)
        except OSError:
            pass
        finally:
            with self._lock:
                if self._sock is s:
                    self._sock = None
                pending, self._pending = self._pending, {}
            for p in pending.values():
                p.queue.put(_CLOSED)

    def _route(self, line):
        try:
            msg = json.loads(line.decode("utf-8"))
            rid = msg.get("id")
        except (ValueError, UnicodeDecodeError, AttributeError):
            return  # not a response line: nothing to route it to
        if rid is None:
            return  # answers a line the daemon could not read; ours always are
        with self._lock:
            p = self._pending.get(rid)
            if p is not None and msg.get("type") != "token":
                del self._pending[rid]
        if p is not None:
            p.queue.put(msg)

    # -- requests ---------------------------------------------------------------------------------

    def _start(self, op, fields, stream=False, request_id=None):
        """Sends one request line; returns (id, pending)."""
        rid = request_id if request_id is not None else "p%d" % next(self._ids)
        body = {"id": rid, "op": op}
        body.update({k: v for k, v in fields.items() if v is not None})
        line = (json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        p = _Pending(stream)
        with self._lock:
            s = self._connect_locked()
            if rid in self._pending:
                raise ValueError("request id %r is already in flight" % (rid,))
            self._pending[rid] = p
        try:
            with self._write_lock:
                s.sendall(line)
        except OSError:
            with self._lock:
                self._pending.pop(rid, None)
            raise ConnectionClosed("the connection to gpt2d closed")
        return rid, p

    def _next(self, rid, p, timeout):
        try:
            msg = p.queue.get(timeout=timeout)
        except queue.Empty:
            self._abandon(rid)
            raise TimeoutError("no answer from gpt2d within %s s" % timeout)
        if msg is _CLOSED:
            raise ConnectionClosed("the connection to gpt2d closed before the answer arrived")
        if msg.get("type") == "error":
            e = msg.get("error") or {}
            raise DaemonError(e.get("code", "internal_error"), e.get("message", ""), e.get("field"))
        return msg

    def _abandon(self, rid):
        """Stops waiting for `rid` and asks the daemon to cancel it."""
        with self._lock:
            known = self._pending.pop(rid, None) is not None
            connected = self._sock is not None
        if known and connected:
            try:
                self._start("cancel", {"target_id": rid})  # its answer is routed to a queue nobody reads
            except (OSError, ValueError):
                pass

    def request(self, op, timeout=None, request_id=None, **fields):
        """Sends any op and returns its result dict (without "id"); raises DaemonError on an error line."""
        rid, p = self._start(op, fields, request_id=request_id)
        msg = self._next(rid, p, timeout if timeout is not None else self.timeout)
        msg.pop("id", None)
        return msg

    def _stream(self, op, fields, timeout, request_id):
        rid, p = self._start(op, fields, stream=True, request_id=request_id)
        done = False
        try:
            while True:
                msg = self._next(rid, p, timeout)
                msg.pop("id", None)
                if msg.get("type") == "result":
                    done = True
                    yield msg
                    return
                yield msg
        finally:
            if not done:
                self._abandon(rid)  # the caller stopped iterating early (or an error ended it)

    # -- ops --------------------------------------------------------------------------------------

    def health(self, timeout=None):
        return self.request("health", timeout)

    def models(self, timeout=None):
        """The list of model dicts (with "loaded": False for a model keep_alive unloaded, "keep_alive_s"
        when it has one, "last_used_at")."""
        return self.request("models", timeout)["models"]

    def models_load(self, name, directory, weight_type=None, keep_alive_s=None, timeout=None):
        """Serves the checkpoint `directory` (a path on the daemon's machine) as `name`; returns
        {"model": <its models entry>, "load_seconds"} once it serves. Root and admin_group only
        (else DaemonError "forbidden"); "model_exists", "model_load_failed" (field "directory")."""
        return self.request("models.load", timeout, name=name, directory=directory, weight_type=weight_type,
                            keep_alive_s=keep_alive_s)

    def models_unload(self, name, drain_timeout_s=None, timeout=None):
        """Stops serving `name` (its running requests may run `drain_timeout_s`, 0..3600; default the
        daemon's drain_timeout_s); returns {"name", "unloaded", "stopped_requests", "freed_kv_blocks"}
        once its memory is given back. Root and admin_group only."""
        return self.request("models.unload", timeout, name=name, drain_timeout_s=drain_timeout_s)

    def tokenize(self, model, text, timeout=None):
        """{"tokens": [...], "offsets": [[start, end], ...]} (code points of `text`)."""
        return self.request("tokenize", timeout, model=model, text=text)

    def detokenize(self, model, tokens, skip_special_tokens=None, timeout=None):
        """The text (a str)."""
        return self.request("detokenize", timeout, model=model, tokens=list(tokens),
                            skip_special_tokens=skip_special_tokens)["text"]

    def generate(self, model, prompt=None, tokens=None, stream=False, timeout=None, request_id=None, **params):
        """Continues `prompt` (a str) or `tokens` (ids). `params`: session, max_new_tokens, do_sample,
        temperature, top_k, top_p, repetition_penalty, seed, stop, logprobs, and any other generate field
        (min_new_tokens, num_return_sequences, num_beams, top_logprobs, logit_bias, ...) by its wire name.

        stream=False: returns the result dict. stream=True: returns an iterator of dicts — one
        {"type": "token", "index", "token", "text"[, "logprob"]} per generated token, then the
        {"type": "result", ...} dict. Leaving the iteration early (break, close(), garbage collection)
        cancels the request on the daemon.
        """
        fields = dict(params, model=model, prompt=prompt, tokens=list(tokens) if tokens is not None else None)
        t = timeout if timeout is not None else self.timeout
        if stream:
            fields["stream"] = True
            return self._stream("generate", fields, t, request_id)
        fields["stream"] = False
        return self.request("generate", t, request_id=request_id, **fields)

    def score(self, model, text=None, tokens=None, session=None, top_logprobs=None, timeout=None):
        """{"tokens", "logprobs" (first is None), "perplexity"[, "top_logprobs"]}."""
        return self.request("score", timeout, model=model, text=text,
                            tokens=list(tokens) if tokens is not None else None,
                            session=session, top_logprobs=top_logprobs)

    def session_open(self, model, name=None, idle_timeout_s=None, timeout=None):
        """The new session dict; its id is ["session"]. With `name`: the caller's session of that name
        if it exists (["created"] is False), else a new one with that name (unique per owner).
        `idle_timeout_s`: seconds unused before it is closed (at most the daemon's session_idle_timeout_s)."""
        return self.request("session.open", timeout, model=model, name=name, idle_timeout_s=idle_timeout_s)

    def session_fork(self, session, name=None, timeout=None):
        """A new session dict holding a copy of `session`'s history (its KV cache shared copy-on-write)."""
        return self.request("session.fork", timeout, session=session, name=name)

    def session_close(self, session, timeout=None):
        return self.request("session.close", timeout, session=session)

    def session_list(self, timeout=None):
        """The caller's sessions (a list of dicts: session, model, n_tokens, busy, created_at,
        last_used_at, bytes, kv_bytes, idle_timeout_s and, when named, name)."""
        return self.request("session.list", timeout)["sessions"]

    def session_totals(self, timeout=None):
        """The caller's totals next to the per-user quotas: {"sessions", "max_sessions_per_user",
        "n_tokens", "max_session_tokens_per_user", "bytes", "kv_bytes"} (session.list's "totals")."""
        return self.request("session.list", timeout)["totals"]

    def session_info(self, session, timeout=None):
        return self.request("session.info", timeout, session=session)

    def cancel(self, target_id, timeout=None):
        """Cancels the in-flight request with id `target_id` on this connection (see `request_id=`).
        Returns True when one was found and stopped."""
        return self.request("cancel", timeout, target_id=target_id)["cancelled"]

    def stats(self, timeout=None):
        return self.request("stats", timeout)

    def metrics(self, timeout=None):
        """The daemon's Prometheus text exposition (root and admin_group only, else `forbidden`)."""
        return self.request("metrics", timeout)["text"]

    # -- task ops (PROTOCOL.md §4, "Task ops") ------------------------------------------------------

    @staticmethod
    def _text_fields(texts):
        """A str is sent as "text", a list (or other iterable) of str as "texts"."""
        if isinstance(texts, str):
            return {"text": texts}
        return {"texts": list(texts)}

    def classify(self, model, texts, top_k=None, function_to_apply=None, timeout=None):
        """Sequence classification. `texts`: a str → its list of {"label", "score"} dicts, best first; a
        list of str → one such list per text, in order. top_k: None = the best label only, 0 = every
        label, k = the k best. function_to_apply: "softmax", "sigmoid" or "none" (None = the model's)."""
        fields = dict(self._text_fields(texts), model=model, top_k=top_k, function_to_apply=function_to_apply)
        results = self.request("classify", timeout, **fields)["results"]
        return results[0] if isinstance(texts, str) else results

    def tag(self, model, text, aggregation_strategy=None, ignore_labels=None, max_length=None, stride=None,
            timeout=None):
        """Token classification: the list of entity dicts — {"entity", "score", "index", "word", "start",
        "end"} with aggregation_strategy "none" (the default), else {"entity_group", "score", "word",
        "start", "end"}. ignore_labels: None = ["O"]; [] keeps every label."""
        return self.request("tag", timeout, model=model, text=text, aggregation_strategy=aggregation_strategy,
                            ignore_labels=list(ignore_labels) if ignore_labels is not None else None,
                            max_length=max_length, stride=stride)["entities"]

    def qa(self, model, question, context, top_k=None, doc_stride=None, max_answer_len=None, max_seq_len=None,
           max_question_len=None, handle_impossible_answer=None, align_to_words=None, timeout=None):
        """Extractive question answering: the list of {"answer", "score", "start", "end"} dicts, best
        first (at most top_k, default 1); offsets are code points of `context`."""
        return self.request("qa", timeout, model=model, question=question, context=context, top_k=top_k,
                            doc_stride=doc_stride, max_answer_len=max_answer_len, max_seq_len=max_seq_len,
                            max_question_len=max_question_len, handle_impossible_answer=handle_impossible_answer,
                            align_to_words=align_to_words)["answers"]

    def choose(self, model, choices, prompt=None, mc_token_index=None, timeout=None):
        """Multiple choice: {"scores": [mc_logit per choice], "best": index of the highest}. `prompt` is
        prepended as text to every choice; mc_token_index: per choice, the token index to score."""
        r = self.request("choose", timeout, model=model, prompt=prompt, choices=list(choices),
                         mc_token_index=list(mc_token_index) if mc_token_index is not None else None)
        return {"scores": r["scores"], "best": r["best"]}

    def embed(self, model, texts, pooling=None, normalize=None, timeout=None):
        """Sentence embeddings. `texts`: a str → its vector (a list of n_embd floats); a list of str →
        one vector per text, in order. pooling: "last" (default) or "mean"; normalize: L2-normalize."""
        fields = dict(self._text_fields(texts), model=model, pooling=pooling, normalize=normalize)
        embeddings = self.request("embed", timeout, **fields)["embeddings"]
        return embeddings[0] if isinstance(texts, str) else embeddings
