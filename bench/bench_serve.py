"""Speed of the workbench (``fieldkit serve``), each figure against a floor through the same stack.

    python bench/bench_serve.py            # a 20,000-word transcript with 1,000 codings
    python bench/bench_serve.py --quick    # 2,000 words, 100 codings

Both servers run under uvicorn on 127.0.0.1 behind the same token guard, and are timed over
one kept-alive HTTP connection from this process (median of many requests):

* ``render``: ``GET /doc/<transcript>``, the page of the transcript with its codings (the
  library reads the record and codings, renders the Markdown with positions, converts every
  offset to UTF-16). Floor: the very same HTML bytes served as a static file by Starlette.
* ``save``: ``POST /api/codings``, coding a new span through ``codings.apply_code`` (a
  transaction with the duplicate check, the revision-free insert and the audit line).
  Floor: ``GET`` of a small static JSON file, the cost of the round trip alone.

Targets (issue 14): render under 300 ms, save under 50 ms, on this machine; ratios are
time ratios (ours / floor, lower is better).
"""

from __future__ import annotations

import http.client
import json
import math
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN = "bench-token-0123456789abcdef"
WORDS = ("inspection panel voice partnership practitioner supervision probation meeting agenda decision "
         "experience expert listened asked said felt because when then really maybe think report "
         "quality case plan risk review team manager office week family support housing work").split()


def _row(benchmark: str, n: int, ours_s: float, floor_s: float, note: str) -> dict:
    return {"benchmark": benchmark, "n": n, "ours_s": ours_s, "floor_s": floor_s,
            "ratio": ours_s / floor_s if floor_s else math.inf, "note": note}


def transcript(words: int, rng: random.Random) -> str:
    """A fictional interview: turns of 20-80 words, time codes, two speakers, a little Markdown."""
    turns, done, second = [], 0, 0
    while done < words:
        n = min(rng.randint(20, 80), words - done)
        text = " ".join(rng.choice(WORDS) for _ in range(n))
        if rng.random() < 0.2:
            text = text.replace(" ", " **", 1).replace(" ", "** ", 2)
        speaker = "R1" if len(turns) % 2 == 0 else "P03"
        turns.append(f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}] {speaker}: {text}.")
        done += n
        second += rng.randint(5, 40)
    return "\n\n".join(turns) + "\n"


def build(folder: Path, words: int, n_codings: int):
    import fieldkit
    from fieldkit.coding.codebook import add_code
    from fieldkit.core.records import Coding
    from fieldkit.exchange.transcripts import store_turns
    from fieldkit.fieldwork.capture import note
    from fieldkit.fieldwork.registers import add_participant

    rng = random.Random(14)
    project = fieldkit.init(folder / "p", author="bench")
    try:
        codes = [add_code(project, f"code-{i:02d}").id for i in range(20)]
        for speaker in ("R1", "P03"):
            add_participant(project, speaker)
        record = note(project, transcript(words, rng))
        # the page marks stored turns only, as an import stores them
        with project.transaction():
            assert store_turns(project, record) > 1
        body = record.body
        spans = set()
        while len(spans) < n_codings:
            start = rng.randrange(0, len(body) - 200)
            spans.add((start, start + rng.randint(10, 200), rng.choice(codes), rng.choice(("alice", "bob"))))
        project.add_many(Coding(record_id=record.id, code_id=c, start=s, end=e, coder=who)
                         for s, e, c, who in sorted(spans))
        return record.id, len(body.split()), len(body)
    finally:
        project.close()


class Server:
    """An app under uvicorn in a thread, and one kept-alive connection to it."""

    def __init__(self, app):
        import threading

        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app(self.port), host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method: str, path: str, body=None) -> bytes:
        headers = {"Authorization": f"Token {TOKEN}", "Host": f"127.0.0.1:{self.port}"}
        if body is not None:
            headers.update({"Content-Type": "application/json", "X-Fieldkit-Request": "1"})
            body = json.dumps(body)
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return data

    def close(self):
        self.conn.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _median(fn, repeat: int) -> float:
    fn()  # warm: first imports, template compilation
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(quick: bool = False) -> list[dict]:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from fieldkit.serve.app import create_app
    from fieldkit.serve.security import Guard, cookie_name

    words, n_codings, repeat = (2_000, 100, 5) if quick else (20_000, 1_000, 25)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        record, n_words, length = build(folder, words, n_codings)
        ours = Server(lambda port: create_app(folder / "p", token=TOKEN, port=port, coder="carol"))
        try:
            page = ours.request("GET", f"/doc/{record}")
            static = folder / "static"
            static.mkdir()
            (static / "page.html").write_bytes(page)
            (static / "ok.json").write_text('{"ok": true}')

            def floor_app(port):
                hosts = {"127.0.0.1", f"127.0.0.1:{port}"}
                return Starlette(routes=[Mount("/s", StaticFiles(directory=static))],
                                 middleware=[Middleware(Guard, token=TOKEN, hosts=hosts, cookie=cookie_name(port))])

            floor = Server(floor_app)
            try:
                render = _median(lambda: ours.request("GET", f"/doc/{record}"), repeat)
                render_floor = _median(lambda: floor.request("GET", "/s/page.html"), repeat)
                rng = random.Random(9)
                payload = json.loads(page.split(b'id="payload">', 1)[1].split(b"</script>", 1)[0])
                code = payload["codes"][0]["id"]

                def save():
                    start = rng.randrange(0, length - 50)
                    ours.request("POST", "/api/codings", {"record": record, "code": code, "start16": start,
                                                          "end16": start + rng.randint(5, 40)})

                saving = _median(save, repeat * 2)
                saving_floor = _median(lambda: floor.request("GET", "/s/ok.json"), repeat * 2)
            finally:
                floor.close()
        finally:
            ours.close()
    return [
        _row("render a transcript page with its codings", n_words, render, render_floor,
             f"{n_codings:,} codings, {len(page) // 1024} KB page; floor: the same page as a static file; "
             f"time ratio; target < 0.300 s"),
        _row("save a coding (POST /api/codings)", 1, saving, saving_floor,
             "floor: a static 12-byte JSON file through the same stack; time ratio; target < 0.050 s"),
    ]


def main(argv: list[str]) -> None:
    rows = run(quick="--quick" in argv)
    for row in rows:
        print(f"{row['benchmark']:45s} {row['n']:8d} {row['ours_s']:8.4f} {row['floor_s']:8.4f} "
              f"{row['ratio']:7.2f}  {row['note']}")


if __name__ == "__main__":
    main(sys.argv[1:])
