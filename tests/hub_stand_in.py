"""Tiny Hugging Face models with real tokenizers, and a loopback HTTP server that serves them with
the routes huggingface_hub uses, standing in for the Hub (`HF_ENDPOINT=http://127.0.0.1:PORT`).

Routes (huggingface_hub's snapshot_download / hf_hub_download):
    GET       /api/models/{id}/revision/{rev}           repo info: the commit `sha`, the file list
    GET       /api/models/{id}/tree/{rev}?recursive=…    the file list with sizes and blob ids
    HEAD/GET  /{id}/resolve/{rev}/{file}                 a file, with X-Repo-Commit and ETag headers
An unknown id answers 404 with `X-Error-Code: RepoNotFound`, an unknown revision `RevisionNotFound`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

from tests.conftest import SAMPLE

SPECIAL_BERT = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def sample_words(n: int = 400) -> list[str]:
    """The most frequent words of the sample's titles and genres: a vocabulary that covers its texts."""
    import collections

    text = (SAMPLE / "movies.csv").read_text(encoding="utf-8").lower()
    counts = collections.Counter(re.findall(r"[a-z]+", text))
    return [word for word, _ in counts.most_common(n)]


def build_tiny_bert(folder: Path, hidden: int = 16) -> Path:
    """A randomly initialised one-layer BERT with a WordPiece tokenizer, saved as safetensors."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(SPECIAL_BERT + sample_words()) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), model_max_length=64)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=2 * hidden, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_decoder(folder: Path, hidden: int = 16, padding_side: str = "left") -> Path:
    """A randomly initialised one-layer GPT-2 with a word-level tokenizer saved to pad on
    `padding_side` (Llama and Qwen tokenizers pad on the left), and no pad token of its own."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    words = ["<unk>", "<eos>", *sample_words()]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token="<eos>",
                                        padding_side=padding_side, model_max_length=64)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(words), n_embd=hidden, n_layer=1, n_head=2, n_positions=64,
                        bos_token_id=1, eos_token_id=1)
    GPT2Model(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@dataclass
class Repo:
    """One model repo: commit hash -> {file name: bytes}, and branch or tag -> commit."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def add(self, folder: Path, ref: str = "main") -> str:
        """Commit every file of `folder` as `ref`; returns the commit hash."""
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        commit = hashlib.sha1(b"".join(name.encode() + data for name, data in files.items())).hexdigest()
        self.commits[commit] = files
        self.refs[ref] = commit
        return commit

    def resolve(self, revision: str) -> str | None:
        return revision if revision in self.commits else self.refs.get(revision)


class HubStandIn:
    """`with HubStandIn({"org/name": repo}) as hub:` serves on hub.endpoint; hub.requests lists what was asked."""

    def __init__(self, repos: dict[str, Repo]) -> None:
        self.repos = repos
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HubStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet: the test reads hub.requests
                pass

            def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
                self._answer(body=False)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                path = unquote(urlparse(self.path).path)
                hub.requests.append(f"{self.command} {path}")
                api = re.fullmatch(r"/api/models/(.+?)/(revision|tree)/([^/]+)", path)
                resolve = re.fullmatch(r"/(.+?)/resolve/([^/]+)/(.+)", path)
                match = api or resolve
                if match is None:
                    return self._error(404, "EntryNotFound", body)
                repo = hub.repos.get(match.group(1))
                if repo is None:
                    return self._error(404, "RepoNotFound", body)
                revision = match.group(3) if api else match.group(2)
                commit = repo.resolve(revision)
                if commit is None:
                    return self._error(404, "RevisionNotFound", body)
                files = repo.commits[commit]
                if api and api.group(2) == "revision":
                    info = {"id": match.group(1), "modelId": match.group(1), "sha": commit, "private": False,
                            "siblings": [{"rfilename": name} for name in files]}
                    return self._send(json.dumps(info).encode(), "application/json", commit, body)
                if api:
                    tree = [{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                            for name, data in files.items()]
                    return self._send(json.dumps(tree).encode(), "application/json", commit, body)
                data = files.get(resolve.group(3))
                if data is None:
                    return self._error(404, "EntryNotFound", body)
                return self._send(data, "application/octet-stream", commit, body, etag=hashlib.sha1(data).hexdigest())

            def _send(self, data: bytes, kind: str, commit: str, body: bool, etag: str | None = None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Repo-Commit", commit)
                if etag:
                    self.send_header("ETag", f'"{etag}"')
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _error(self, status: int, code: str, body: bool) -> None:
                data = json.dumps({"error": code}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Error-Code", code)
                self.end_headers()
                if body:
                    self.wfile.write(data)

        return Handler
