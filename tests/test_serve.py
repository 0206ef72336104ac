"""The workbench without a browser: token, cross-site refusal, CSP, offsets and the API.

Requests go through Starlette's TestClient into the real app over a real project; every
check of what was stored reads it back through the library."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldkit
from fieldkit.coding import autocode, codebook, codings
from fieldkit.core.errors import FieldkitError
from fieldkit.fieldwork import capture
from fieldkit.serve.offsets import Utf16Index, to_code_points, to_utf16
from fieldkit.serve.render import ShownTurn, render_body
from serve_support import check_review_decisions

TOKEN = "serve-test-token-abcdefghijklmnop"
HOST = "testserver"
#: emoji (outside the BMP), a combining accent, Arabic and Hebrew (right to left), CJK
MIXED = ("The inspector 😀 said the cafe\u0301 meeting was «شراكة حقيقية» and שותפות 🇬🇧 "
         "but the panel felt it was consultation not partnership. 家族 voice matters.")


@pytest.fixture
def project(tmp_path):
    p = fieldkit.init(tmp_path / "study", author="alice")
    codebook.add_code(p, "power")
    codebook.add_code(p, "voice", parent="power")
    p.close()
    return tmp_path / "study"


@pytest.fixture
def client(project):
    from starlette.testclient import TestClient

    from fieldkit.serve.app import create_app

    app = create_app(project, token=TOKEN, hosts=[HOST], coder="alice")
    with TestClient(app, base_url=f"http://{HOST}") as c:
        yield c


def signed_in(client):
    response = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    return client


WRITE = {"X-Fieldkit-Request": "1"}


def note(project_path, text=MIXED):
    p = fieldkit.open(project_path)
    try:
        return capture.note(p, text).id
    finally:
        p.close()


def u16(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


# token -----------------------------------------------------------------------------------
def test_every_page_and_api_call_needs_the_token(client, project):
    record = note(project)
    for url in ("/", f"/doc/{record}", "/codebook", "/search?q=panel", "/review", "/api/codebook",
                "/static/workbench.js"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "token" in response.text
    assert client.get("/?token=wrong").status_code == 403
    assert client.get("/", headers={"Authorization": "Token wrong"}).status_code == 403
    assert client.get("/", headers={"Authorization": f"Token {TOKEN}"}).status_code == 200


def test_token_in_the_url_becomes_a_strict_httponly_cookie_and_leaves_the_address(client):
    response = client.get(f"/search?q=panel&token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/search?q=panel"
    cookie = response.headers["set-cookie"]
    assert f"={TOKEN}" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert client.get("/search?q=panel").status_code == 200


def test_a_request_for_another_host_name_is_refused(client):
    signed_in(client)
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


# cross-site requests ---------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {},  # no custom header: what a cross-site form sends
    {**WRITE, "Origin": "http://evil.example"},
    {**WRITE, "Sec-Fetch-Site": "cross-site"},
])
def test_changes_from_another_site_are_refused_and_nothing_is_written(client, project, headers):
    signed_in(client)
    record = note(project)
    response = client.post("/api/codings", json={"record": record, "code": "power", "start16": 0, "end16": 3},
                           headers=headers)
    assert response.status_code == 403
    p = fieldkit.open(project)
    try:
        assert p.list("coding") == []
    finally:
        p.close()


def test_a_change_from_the_page_itself_is_accepted(client, project):
    signed_in(client)
    record = note(project)
    response = client.post("/api/codings", json={"record": record, "code": "power", "start16": 0, "end16": 3},
                           headers={**WRITE, "Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 201, response.text


# headers ---------------------------------------------------------------------------------
def test_content_security_policy_allows_only_the_servers_own_assets(client, project):
    signed_in(client)
    record = note(project)
    for url in ("/", f"/doc/{record}", "/static/workbench.css", "/api/codebook"):
        response = client.get(url)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
    page = client.get(f"/doc/{record}").text
    for tag in re.findall(r"<script\b[^>]*>", page):  # only our file, or data that never runs
        assert 'src="/static/' in tag or 'type="application/json"' in tag
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/"), url


def test_a_bodys_html_is_shown_as_text_never_run(client, project):
    signed_in(client)
    record = note(project, "Look <script>alert(1)</script> <img src=x onerror=alert(2)> and "
                           "[click](javascript:alert(3)) </script><b>x</b>")
    page = client.get(f"/doc/{record}").text
    body = page.split('id="body"', 1)[1].split("</article>", 1)[0]
    assert "<script" not in body and "<img" not in body and "<b>" not in body and "href=" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    made = client.post("/api/codings", headers=WRITE, json={
        "record": record, "code": "power", "start16": 0, "end16": 4, "note": "</script><script>alert(4)</script>"})
    assert made.status_code == 201
    for url in (f"/doc/{record}", "/search?q=%3C/script%3E%3Cscript%3Ealert(5)"):
        page = client.get(url).text
        data = page.split('id="payload">', 1)[1].split("</script>", 1)[0]
        assert "alert" in json.dumps(json.loads(data))  # the data block holds the whole payload
        assert "<" not in data  # so neither a note nor a query can close it early


# offsets ---------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), st.data())
def test_utf16_positions_match_pythons_own_encoding(text, data):
    index = Utf16Index(text)
    assert index.length16 == len(text.encode("utf-16-le")) // 2
    cp = data.draw(st.integers(0, len(text)))
    expected = len(text[:cp].encode("utf-16-le")) // 2
    assert index.to_utf16(cp) == expected == to_utf16(text, cp)
    assert index.to_code_points(expected) == cp == to_code_points(text, expected)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x10000, max_codepoint=0x1FAFF), min_size=1, max_size=8),
       st.text(max_size=5).filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)))
def test_a_position_between_the_halves_of_a_character_is_refused(astral, prefix):
    text = prefix + astral
    inside = u16(text, len(prefix)) + 1  # after the high surrogate of the first astral character
    with pytest.raises(FieldkitError):
        Utf16Index(text).to_code_points(inside)


_MARKDOWN = st.lists(st.sampled_from([
    "word", " ", "\n", "\n\n", "**", "*", "_", "`", "# ", "> ", "- ", "1. ", "[", "]", "(", ")", "\\*", "&amp;",
    "😀", "e\u0301", "שלום", "شراكة", "<b>", "[00:01:02] P03: ", "OC: ", "    ", "```", "---", "|", "!", "#tag",
    "@P01", "https://example.org", "<", ">", "\t"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MARKDOWN, st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_every_positioned_run_of_rendered_text_is_the_body_at_that_position(body, cuts):
    """The oracle is the stored body itself, counted in UTF-16 by Python's codec, and the
    turns given: every run inside a turn is marked as that turn's, and only those are."""
    from fieldkit.core.markdown import normalise

    body = normalise(body)
    units = body.encode("utf-16-le")
    points = sorted({min(c, len(body)) for c in cuts})
    spans = [(a, b) for a, b in zip(points[::2], points[1::2]) if a < b]
    turns = [ShownTurn(a, b, "participant", "P03", "P03", "00:00:01") for a, b in spans]
    out = render_body(body, turns)
    last = -1
    for u, turn, text in re.findall(r'<span data-u="(\d+)"(?: data-turn="(\d+)")?[^>]*>([^<]*)</span>', out):
        shown = html.unescape(text)
        start = int(u)
        length = len(shown.encode("utf-16-le")) // 2
        assert units[2 * start:2 * (start + length)].decode("utf-16-le") == shown
        assert start > last  # in document order, never overlapping
        last = start + length - 1
        cp = len(units[:2 * start].decode("utf-16-le"))
        inside = [n for n, (a, b) in enumerate(spans) if a <= cp < b]
        assert inside == ([int(turn)] if turn else [])
        if turn:
            assert cp + len(shown) <= spans[int(turn)][1]  # a run never runs past its turn's end
    assert out.count('class="turn-mark"') <= len(turns)
    assert not re.search(r"<(?!/?(?:span|p|h[1-6]|blockquote|ul|ol|li|strong|em|s|code|pre|hr|br|table|thead|tbody|tr|th|td)\b)", out)


class _TurnsOnPage(HTMLParser):
    """Reads the document page back: each turn marker's kind, time code and speaker (as
    shown, and the participant code the real-names toggle looks up), and the text and first
    UTF-16 position of the words marked as that turn's."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.markers: dict = {}
        self.words: dict = {}
        self.stack: list = []  # per open span: (marker number or None, part, turn of its words)

    def handle_starttag(self, tag, attrs):
        if tag != "span":
            return
        a = dict(attrs)
        outer = self.stack[-1][0] if self.stack else None
        if "turn-mark" in (a.get("class") or "").split():
            outer = int(a["data-turn"])
            self.markers[outer] = {"kind": a["data-kind"], "time": "", "speaker": "", "code": ""}
        elif outer is not None and a.get("class") == "pseudonym":
            self.markers[outer]["code"] = a.get("data-code")
        part = a.get("class") if outer is not None and a.get("class") in ("tc", "spk") else None
        part = part or (self.stack[-1][1] if self.stack else None)
        turn = int(a["data-turn"]) if "data-u" in a and "data-turn" in a else None
        if turn is not None:
            self.words.setdefault(turn, {"u": int(a["data-u"]), "text": ""})
        self.stack.append((outer, part, turn))

    def handle_endtag(self, tag):
        if tag == "span":
            self.stack.pop()

    def handle_data(self, text):
        if not self.stack:
            return
        outer, part, turn = self.stack[-1]
        if outer is not None and part:
            self.markers[outer]["time" if part == "tc" else "speaker"] += text
        elif turn is not None:
            self.words[turn]["text"] += text

    def turns(self) -> list:
        return [(m["kind"], m["speaker"], m["code"], m["time"], self.words.get(n, {}).get("text"),
                 self.words.get(n, {}).get("u")) for n, m in sorted(self.markers.items())]


def turns_on_page(page: str) -> list:
    reader = _TurnsOnPage()
    reader.feed(page.split('id="body"', 1)[1].split("</article>", 1)[0])
    return reader.turns()


_VTT = ("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>Welcome, everyone.\n\n"
        "00:00:04.000 --> 00:00:09.500\n<v Jo>The hostel curfew made work impossible.\n\n"
        "00:00:09.500 --> 00:00:12.000\n<v Sam>My officer changed three times,\nin one year.\n\n"
        "00:01:12.000 --> 00:01:15.000\n<v Alex>I never met mine 😀.\n")
_SPEAKER_LINES = ("---\nencounter: E2\n---\nThe room was cold 😀.\n\n**P03:** Nobody *listens*.\n\n"
                  "- **Facilitator:** Why?\n\nP07: Caseloads.\nThat is all.\n")


def import_group(project_path, tmp_path, source: str) -> str:
    """A focus group imported through the real importer (``vtt`` or Markdown speaker lines)."""
    from fieldkit.exchange import markdown_import, transcripts
    from fieldkit.exchange.importing import ImportOptions
    from fieldkit.fieldwork.registers import add_encounter, add_participant

    p = fieldkit.open(project_path)
    try:
        add_participant(p, "P03", role="person_on_probation")
        add_participant(p, "P07", role="probation_practitioner")
        add_encounter(p, "focus_group", code="E2", participants=["P03", "P07"])
        if source == "vtt":
            (tmp_path / "group.vtt").write_text(_VTT, encoding="utf-8")
            report = transcripts.load(p, tmp_path / "group.vtt", ImportOptions(
                encounter="E2", speakers={"Jo": "P03", "Sam": "P07"}, allow_unknown=True))
        else:
            (tmp_path / "notes").mkdir()
            (tmp_path / "notes" / "group.md").write_text(_SPEAKER_LINES, encoding="utf-8")
            report = markdown_import.load(p, tmp_path / "notes", ImportOptions())
        assert not report.problems, report.problems
        return p.list("observation")[-1].id
    finally:
        p.close()


@pytest.mark.parametrize("source, expected", [
    ("vtt", [("researcher", "(researcher)", "", "00:00:01", "Welcome, everyone."),
             ("participant", "P03", "P03", "00:00:04", "The hostel curfew made work impossible."),
             ("participant", "P07", "P07", "00:00:09", "My officer changed three times, in one year."),
             ("unregistered", "Speaker 1", "", "00:01:12", "I never met mine 😀.")]),
    ("markdown", [("participant", "P03", "P03", "", "Nobody listens."),
                  ("researcher", "(researcher)", "", "", "Why?"),
                  ("participant", "P07", "P07", "", "Caseloads.\nThat is all.")]),
])
def test_each_stored_turn_is_marked_with_its_speaker_and_time_at_its_words(client, project, tmp_path, source,
                                                                           expected):
    """Oracle: the source file as written (speakers mapped by hand), not the stored turns."""
    record = import_group(project, tmp_path, source)
    p = fieldkit.open(project)
    try:
        body = p.get(record).body
    finally:
        p.close()
    signed_in(client)
    page = client.get(f"/doc/{record}").text
    shown = turns_on_page(page)
    words = [w.replace("*", "") for *_, w in expected]  # the page shows emphasis, not its asterisks
    assert [(kind, who, code, time, text) for kind, who, code, time, text, _ in shown] == \
        [(*rest, w) for (*rest, _), w in zip(expected, words)]
    # each turn's words start where that turn's words are in the body (the page counts in UTF-16)
    assert [u for *_, u in shown] == [u16(body, body.index(w[:6])) for w in words]
    speakers = re.search(r"Speakers: (.*?)</p>", page, re.S).group(1)
    assert re.findall(r'<span class="(?:pseudonym" data-code="[^"]+|speaker)">([^<]+)</span>', speakers) == \
        list(dict.fromkeys(who for _, who, *_ in expected))
    assert 'id="show-names"' in speakers  # participants speak: the real-names toggle is on the page


def test_a_note_with_name_lines_but_no_stored_turns_shows_no_turns(client, project):
    from fieldkit.fieldwork.registers import add_participant

    p = fieldkit.open(project)
    try:  # the speakers exist, so only the absence of stored turns keeps these from being turns
        add_participant(p, "P01")
        add_participant(p, "P02")
    finally:
        p.close()
    records = [note(project, "Marc: 'doing to us, not with us' - room goes quiet #voice"),
               note(project, "Ann: We were asked.\n\nBo: Too late."),
               note(project, "[00:00:01] P01: typed by hand, not imported\n\n[00:00:05] P02: so no turns")]
    signed_in(client)
    for record in records:
        page = client.get(f"/doc/{record}").text
        assert turns_on_page(page) == [] and "data-turn" not in page and "turn-label" not in page
        assert "Speakers:" not in page


def test_a_selection_with_emoji_combining_marks_and_rtl_is_stored_at_code_point_offsets(client, project, tmp_path):
    """Offsets the page sends (UTF-16) are stored as the code points the CLI and exports use."""
    signed_in(client)
    record = note(project)
    p = fieldkit.open(project)
    try:
        body = p.get(record).body
    finally:
        p.close()
    start = body.index("consultation not partnership")
    end = start + len("consultation not partnership")
    assert u16(body, start) != start  # the emoji before it make the two counts differ
    response = client.post("/api/codings", headers=WRITE, json={
        "record": record, "code": "power/voice", "start16": u16(body, start), "end16": u16(body, end)})
    assert response.status_code == 201, response.text
    made = response.json()["coding"]
    assert (made["start"], made["end"], made["s16"], made["e16"]) == (start, end, u16(body, start), u16(body, end))
    p = fieldkit.open(project)
    try:
        (stored,) = p.list("coding")
        assert (stored.start, stored.end, stored.coder) == (start, end, "alice")
        assert body[stored.start:stored.end] == "consultation not partnership"
    finally:
        p.close()
    # the same quote coded by the installed command line lands on the same offsets
    result = subprocess.run(["fieldkit", "--project", str(project), "code", "apply", record, "power/voice",
                             "--quote", "consultation not partnership", "--coder", "bob"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    p = fieldkit.open(project)
    try:
        by = {c.coder: (c.start, c.end) for c in p.list("coding")}
        assert by["bob"] == by["alice"] == (start, end)
    finally:
        p.close()
    # and an RTL phrase inside guillemets
    rtl = body.index("شراكة حقيقية")
    response = client.post("/api/codings", headers=WRITE, json={
        "record": record, "code": "power", "start16": u16(body, rtl), "end16": u16(body, rtl + 12)})
    assert response.json()["coding"]["start"] == rtl


def test_a_selection_splitting_a_character_is_refused(client, project):
    signed_in(client)
    record = note(project)
    p = fieldkit.open(project)
    body = p.get(record).body
    p.close()
    inside = u16(body, body.index("😀")) + 1
    response = client.post("/api/codings", headers=WRITE,
                           json={"record": record, "code": "power", "start16": inside, "end16": inside + 4})
    assert response.status_code == 400 and "inside a character" in response.json()["error"]


# the API over the library -----------------------------------------------------------------
def test_codings_are_annotated_rebounded_and_removed_with_history(client, project):
    signed_in(client)
    record = note(project, "The panel was asked late. Then they were told.")
    made = client.post("/api/codings", headers=WRITE,
                       json={"record": record, "new_code": "timing", "parent": "power", "start16": 4, "end16": 9})
    assert made.status_code == 201, made.text
    coding = made.json()["coding"]
    assert coding["code"] == "power/timing"
    noted = client.post(f"/api/codings/{coding['id']}/note", headers=WRITE, json={"note": "late again"})
    assert noted.json()["coding"]["note"] == "late again"
    moved = client.post(f"/api/codings/{coding['id']}/bounds", headers=WRITE, json={"start16": 4, "end16": 24})
    assert (moved.json()["coding"]["start"], moved.json()["coding"]["end"]) == (4, 24)
    removed = client.post(f"/api/codings/{coding['id']}/remove", headers=WRITE, json={})
    assert removed.json() == {"removed": coding["id"]}
    p = fieldkit.open(project)
    try:
        assert p.list("coding") == []
        history = p.history(coding["id"])
        assert [r.reason for r in history] == ["note changed", "re-bounded in the workbench"]
        assert (history[-1].data["start"], history[-1].data["end"]) == (4, 9)
        actions = [(a["action"], a["record_id"]) for a in p.audit_log()]
        assert ("delete", coding["id"]) in actions and ("create", coding["id"]) in actions
    finally:
        p.close()


def test_duplicate_and_retired_codes_are_refused_with_the_librarys_message(client, project):
    signed_in(client)
    record = note(project, "Words to code here.")
    payload = {"record": record, "code": "power", "start16": 0, "end16": 5}
    assert client.post("/api/codings", headers=WRITE, json=payload).status_code == 201
    again = client.post("/api/codings", headers=WRITE, json=payload)
    assert again.status_code == 400 and "already coded" in again.json()["error"]
    assert client.post("/api/codes/power/retire", headers=WRITE, json={}).status_code == 200
    retired = client.post("/api/codings", headers=WRITE, json={**payload, "end16": 8})
    assert retired.status_code == 400 and "retired" in retired.json()["error"]


def test_codebook_operations_keep_history_like_the_cli(client, project):
    signed_in(client)
    added = client.post("/api/codes", headers=WRITE, json={"name": "tokenism", "definition": "Token roles"})
    assert added.status_code == 201 and added.json()["code"]["path"] == "tokenism"
    code_id = added.json()["code"]["id"]
    assert client.post(f"/api/codes/{code_id}/rename", headers=WRITE, json={"name": "token"}).status_code == 200
    assert client.post(f"/api/codes/{code_id}/move", headers=WRITE, json={"parent": "power"}).json()["code"][
        "path"] == "power/token"
    assert client.post(f"/api/codes/{code_id}/edit", headers=WRITE, json={"exclude": "paid roles"}).status_code == 200
    merged = client.post(f"/api/codes/{code_id}/merge", headers=WRITE, json={"into": "power/voice"})
    assert merged.json()["code"]["status"] == "merged"
    p = fieldkit.open(project)
    try:
        reasons = [r.reason for r in p.history(code_id)]
        assert reasons[0] == "renamed from 'tokenism' to 'token'" and len(reasons) == 4
        assert p.get(code_id).exclude == "paid roles"
    finally:
        p.close()
    listed = client.get("/api/codebook").json()["codes"]
    assert [c["path"] for c in listed if c["status"] == "active"] == ["power", "power/voice"]


def test_proposals_are_accepted_rejected_and_extended(client, project):
    signed_in(client)
    record = note(project, "First sentence here. The panel had a real voice in it. Last one.\n\nNext paragraph.")
    p = fieldkit.open(project)
    try:
        codebook.edit_code(p, "power/voice", keywords=["word:voice", "word:panel", "word:last"])
        autocode.run_autocoder(p, "keywords", all_records=True)
        body = p.get(record).body
        panel, voice, last = sorted(autocode.proposals(p), key=lambda x: x.start)
    finally:
        p.close()
    assert [body[x.start:x.end] for x in (panel, voice, last)] == ["panel", "voice", "Last"]
    assert client.post(f"/api/proposals/{panel.id}/accept", headers=WRITE, json={}).status_code == 200
    assert client.post(f"/api/proposals/{last.id}/reject", headers=WRITE, json={}).status_code == 200
    extended = client.post(f"/api/proposals/{voice.id}/sentence", headers=WRITE, json={})
    assert extended.status_code == 200, extended.text
    p = fieldkit.open(project)
    try:
        human = {body[c.start:c.end] for c in codings.list_codings(p, coder="alice")}
        assert human == {"panel", "The panel had a real voice in it."}
        assert autocode.proposals(p) == []
        autocode.run_autocoder(p, "keywords", all_records=True)  # handled proposals do not come back
        assert autocode.proposals(p) == []
    finally:
        p.close()


def test_a_memo_on_a_selection_quotes_it_links_its_record_and_private_memos_are_not_exported(client, project,
                                                                                            tmp_path):
    from fieldkit.exchange.exporting import ExportOptions, run_export

    signed_in(client)
    record = note(project)
    p = fieldkit.open(project)
    body = p.get(record).body
    p.close()
    start = body.index("شراكة")
    response = client.post("/api/memos", headers=WRITE, json={
        "title": "On partnership", "body": "Why Arabic here?", "kind": "reflexive", "private": True,
        "quote": {"record": record, "start16": u16(body, start), "end16": u16(body, start + 12)}})
    assert response.status_code == 201, response.text
    saved = response.json()["memo"]
    assert saved["links"] == [record] and "private" in saved["tags"]
    public = client.post("/api/memos", headers=WRITE, json={"body": "An analytic thought", "links": [record]})
    p = fieldkit.open(project)
    try:
        memo = p.get(saved["id"])
        assert "> شراكة حقيقية" in memo.body and f"characters {start}-{start + 12}" in memo.body
        assert capture.is_private(memo) and not capture.is_private(p.get(public.json()["memo"]["id"]))
        run_export(p, "markdown", tmp_path / "out", ExportOptions(anonymise=False))
    finally:
        p.close()
    exported = "\n".join(f.read_text(encoding="utf-8") for f in (tmp_path / "out").rglob("*.md"))
    assert "An analytic thought" in exported and "Why Arabic here?" not in exported


def test_a_memo_can_be_linked_to_a_code_and_an_unknown_link_saves_nothing(client, project):
    signed_in(client)
    p = fieldkit.open(project)
    try:
        power = codings.resolve_code(p, "power").id
    finally:
        p.close()
    saved = client.post("/api/memos", headers=WRITE, json={"body": "What power means here", "links": [power]})
    assert saved.status_code == 201 and saved.json()["memo"]["links"] == [power]
    refused = client.post("/api/memos", headers=WRITE, json={"body": "Lost?", "links": ["NO-SUCH-RECORD"]})
    assert refused.status_code == 404
    p = fieldkit.open(project)
    try:
        assert [m.links for m in p.list("memo")] == [(power,)]
    finally:
        p.close()


def test_search_preview_saves_nothing_and_code_all_hits_codes_each(client, project):
    signed_in(client)
    first = note(project, "The panel met. Later the Panel spoke about the panel.")
    note(project, "No match in this one at all.")
    page = client.get("/search?q=panel")
    assert page.status_code == 200 and page.text.count("<mark>") == 3
    preview = client.post("/api/search/preview", headers=WRITE,
                          json={"params": {"q": "panel"}, "code": "power", "extent": "hit"}).json()
    assert [(s["start"], s["end"], s["text"]) for s in preview["spans"]] == [(4, 9, "panel"), (25, 30, "Panel"),
                                                                            (47, 52, "panel")]
    p = fieldkit.open(project)
    assert p.list("coding") == []
    p.close()
    sentences = client.post("/api/search/preview", headers=WRITE,
                            json={"params": {"q": "panel"}, "code": "power", "extent": "sentence"}).json()
    assert [s["text"] for s in sentences["spans"]] == ["The panel met.", "Later the Panel spoke about the panel."]
    coded = client.post("/api/search/code", headers=WRITE, json={
        "code": preview["code"], "spans": [{"record": s["record"], "start": s["start"], "end": s["end"]}
                                           for s in preview["spans"]]})
    assert coded.json()["coded"] == 3
    again = client.post("/api/search/code", headers=WRITE, json={
        "code": preview["code"], "spans": [{"record": first, "start": 4, "end": 9}, {"record": first, "start": 0, "end": 3}]})
    assert (again.json()["coded"], again.json()["skipped"]) == (1, 1)  # what is coded already is skipped
    p = fieldkit.open(project)
    try:
        assert sorted((c.record_id, c.start) for c in p.list("coding")) == [(first, 0), (first, 4), (first, 25),
                                                                            (first, 47)]
    finally:
        p.close()


def test_each_search_filter_keeps_the_right_hits(client, project, tmp_path):
    from fieldkit.exchange import transcripts
    from fieldkit.exchange.importing import ImportOptions
    from fieldkit.fieldwork.registers import add_encounter, add_participant, add_site

    p = fieldkit.open(project)
    try:
        north, east = add_site(p, "Northgate Probation Office").id, add_site(p, "Eastbrook Approved Premises").id
        add_participant(p, "P01", role="expert_by_experience")
        add_participant(p, "P02", role="probation_practitioner")
        add_encounter(p, "interview", code="E1", site=north, participants=["P01", "P02"])
        add_encounter(p, "meeting", code="E2", site=east)
        # the speaker filters go by the turns the importer stored
        (tmp_path / "talk.txt").write_text("[00:00:01] P01: the panel listened\n[00:00:09] P02: then the panel "
                                           "decided\n[00:00:15] Interviewer: why the panel?\n")
        transcripts.load(p, tmp_path / "talk.txt", ImportOptions(encounter="E1", at="2024-03-05 10:00"))
        talk = p.list("observation")[-1].id
        met = capture.note(p, "The panel met again.", encounter="E2", when="2024-04-10 10:00").id
        three = capture.note(p, "A panel of three.", when="2024-05-01 10:00").id
        # written like a turn but typed, not imported: no stored turns, so no speaker
        typed = capture.note(p, "[00:00:01] P01: a panel\n\n[00:00:04] P02: a panel", encounter="E1",
                             when="2024-03-06 10:00").id
        codings.apply_code(p, met, "power", start=0, end=3, coder="alice")
        codings.apply_code(p, three, "voice", start=0, end=1, coder="bob")
    finally:
        p.close()
    signed_in(client)
    turn_one, turn_two, asked = (20, 25), (61, 66), (107, 112)
    typed_hits = [(typed, 18, 23), (typed, 43, 48)]

    def hits(**params):
        answer = client.post("/api/search/preview", headers=WRITE,
                             json={"code": "power", "params": {"q": "panel", **params}})
        assert answer.status_code == 200, answer.text
        return sorted((s["record"], s["start"], s["end"]) for s in answer.json()["spans"])

    assert hits() == sorted([(talk, *turn_one), (talk, *turn_two), (talk, *asked), (met, 4, 9), (three, 2, 7),
                             *typed_hits])
    assert hits(site=north) == sorted([(talk, *turn_one), (talk, *turn_two), (talk, *asked), *typed_hits])
    assert hits(encounter="E2") == [(met, 4, 9)]
    assert hits(speaker="P01") == [(talk, *turn_one)]
    assert hits(speaker="P02") == [(talk, *turn_two)]
    assert hits(speaker="(researcher)") == [(talk, *asked)]
    assert hits(role="probation_practitioner") == [(talk, *turn_two)]
    assert hits(role="expert_by_experience", speaker="P02") == []
    assert hits(coder="bob") == [(three, 2, 7)]
    assert hits(code="power") == [(met, 4, 9)]
    assert hits(since="2024-04-01") == sorted([(met, 4, 9), (three, 2, 7)])
    assert hits(until="2024-03-05") == [(talk, *turn_one), (talk, *turn_two), (talk, *asked)]
    assert "2024-13-01" in client.post("/api/search/preview", headers=WRITE, json={
        "code": "power", "params": {"q": "panel", "since": "2024-13-01"}}).json()["error"]


def test_a_search_past_the_page_limit_says_so_and_filters_see_every_match(client, project, monkeypatch):
    from fieldkit.fieldwork.registers import add_encounter, add_site
    from fieldkit.serve import search

    p = fieldkit.open(project)
    try:
        east = add_site(p, "Eastbrook Approved Premises").id
        add_encounter(p, "meeting", code="E2", site=east)
        for n in range(3):
            capture.note(p, f"The panel met, panel {n}, panel again: " + "panel " * (5 - n))
        last = capture.note(p, "Once a panel.", encounter="E2").id  # the weakest match: ranked last
    finally:
        p.close()
    monkeypatch.setattr(search, "LIMIT", 2)
    signed_in(client)
    page = client.get("/search?q=panel").text
    assert 'id="truncated"' in page and len(re.findall(r'<article class="result">', page)) == 2
    preview = client.post("/api/search/preview", headers=WRITE, json={"code": "power", "params": {"q": "panel"}})
    assert preview.json()["warnings"] and len({s["record"] for s in preview.json()["spans"]}) == 2
    filtered = client.get(f"/search?q=panel&site={east}").text
    assert f"/doc/{last}" in filtered and 'id="truncated"' not in filtered


def test_compare_shows_both_coders_and_the_librarys_agreement(client, project):
    signed_in(client)
    record = note(project, "One two three four five six seven eight nine ten.")
    p = fieldkit.open(project)
    try:
        codings.apply_code(p, record, "power", start=0, end=13, coder="alice")
        codings.apply_code(p, record, "power", start=4, end=18, coder="bob")
        expected = codings.agreement(p, ["alice", "bob"], records=[record])
    finally:
        p.close()
    page = client.get(f"/compare/{record}?a=alice&b=bob").text
    data = json.loads(html.unescape(page.split('id="payload">', 1)[1].split("</script>", 1)[0]))
    assert [c["coder"] for c in data["columns"]] == ["alice", "bob"]
    assert [(d["start"], d["end"]) for d in data["disagreements"]] == [(0, 4), (13, 18)]
    overall = expected.rows[-1]
    assert f"{overall['cohen_kappa']:.2f}" in page


def test_switching_the_coder_changes_who_new_codings_belong_to(client, project):
    signed_in(client)
    record = note(project, "Something to code.")
    assert client.post("/api/coder", headers=WRITE, json={"coder": "auto:me"}).status_code == 400
    assert client.post("/api/coder", headers=WRITE, json={"coder": "carol"}).json() == {"coder": "carol"}
    client.post("/api/codings", headers=WRITE, json={"record": record, "code": "power", "whole": True})
    p = fieldkit.open(project)
    try:
        (made,) = p.list("coding")
        assert made.coder == "carol" and made.whole_record
    finally:
        p.close()


def test_real_names_need_the_key_store(client, project, monkeypatch):
    from fieldkit.fieldwork.registers import add_participant
    from fieldkit.privacy.anonymiser import create_keystore

    signed_in(client)
    refused = client.post("/api/names", headers=WRITE, json={})
    assert refused.status_code == 400 and "no key store" in refused.json()["error"]
    p = fieldkit.open(project)
    try:
        add_participant(p, "P03", role="expert_by_experience")
        store = create_keystore(p, project.parent / "keys.db")
        store.add("P03", "Dana Okafor")
        store.close()
    finally:
        p.close()
    assert client.post("/api/names", headers=WRITE, json={}).json() == {"names": {"P03": "Dana Okafor"}}
    assert "Dana Okafor" not in client.get("/").text  # pseudonyms only until asked


# anonymisation review ---------------------------------------------------------------------
#: fictional people and places: a registered name, its namesake, a prison, a name nobody
#: registered, an @mention that is not a participant and a room number
REVIEW_TEXT = ("Met Dana Okafor and Jane Okafor at HMP Thornbury. Mr Hendry said @P03 and @zed99 rang "
               "about room 4412.")


def with_keys(project_path, *, passphrase=None) -> str:
    """A real key store (P03 registered) and a note to review; returns the note's id."""
    from fieldkit.fieldwork.registers import add_participant
    from fieldkit.privacy.anonymiser import create_keystore

    p = fieldkit.open(project_path)
    try:
        add_participant(p, "P03", role="expert_by_experience")
        store = create_keystore(p, project_path.parent / "keys" / "study.keys", passphrase=passphrase)
        store.add("P03", "Dana Okafor")
        store.close()
        return capture.note(p, REVIEW_TEXT).id
    finally:
        p.close()


def listed_on_page(client, url="/review?anonymise=1") -> list[dict]:
    page = client.get(url)
    assert page.status_code == 200
    found = re.findall(r'data-record="([^"]+)"\s+data-start="(\d+)" data-end="(\d+)" data-digest="([^"]+)"', page.text)
    return [{"record": r, "start": int(s), "end": int(e), "digest": d} for r, s, e, d in found]


def decide(client, item, action, **extra):
    return client.post("/api/anonymise/decide", headers=WRITE, json={**item, "action": action, **extra})


def test_the_anonymisation_queue_is_the_librarys_review_and_decisions_take_effect(client, project, monkeypatch):
    from fieldkit.privacy import anonymiser as an
    from fieldkit.privacy import review

    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    record = with_keys(project)
    signed_in(client)
    p = fieldkit.open(project)
    try:
        expected = review.candidates(p)
    finally:
        p.close()
    shown = listed_on_page(client)
    assert shown == [{"record": c.record_id, "start": c.start, "end": c.end, "digest": c.digest} for c in expected]
    by_text = {REVIEW_TEXT[c["start"]:c["end"]]: c for c in shown}
    assert set(by_text) >= {"Jane Okafor", "Mr Hendry", "@zed99", "4412"}
    assert len(listed_on_page(client, "/review?anonymise=1&pending=1")) == sum(c.needs_review for c in expected)

    for text, action, extra in (("@zed99", "accept", {"kind": "handle"}), ("4412", "reject", {}),
                                ("Mr Hendry", "register", {"pseudonym": "X01"})):
        answer = decide(client, by_text[text], action, **extra)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == ("rejected" if action == "reject" else "accepted")

    p = fieldkit.open(project)
    try:
        check_review_decisions(p, record, REVIEW_TEXT)
        text = an.anonymise_record(p, record)
        assert "@[HANDLE-" in text and "4412" in text and "Hendry" not in text and "[X01]" in text
        log = an.log_entries(p, record)
        kept = json.dumps(log) + str(review_decisions(p))
        for original in ("zed99", "4412", "hendry", "okafor", "thornbury"):
            # as a word of its own: a time's microseconds or a hex digest may hold "4412"
            assert not re.search(rf"(?<![0-9a-z]){original}(?![0-9a-z])", kept.lower()), original
    finally:
        p.close()
    assert "status-rejected" in client.get("/review?anonymise=1").text
    waiting = [REVIEW_TEXT[c["start"]:c["end"]] for c in listed_on_page(client, "/review?anonymise=1&pending=1")]
    assert waiting == ["Jane Okafor"]


def test_add_to_key_store_under_an_existing_pseudonym_adds_an_alias(client, project, monkeypatch):
    from fieldkit.privacy import anonymiser as an

    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    with_keys(project)
    record = note(project, "Later Dee rang the office again.")
    signed_in(client)
    (dee,) = [c for c in listed_on_page(client, f"/review?anonymise=1&record={record}")
              if c["end"] - c["start"] == 3]
    answer = decide(client, dee, "register", pseudonym="P03")
    assert answer.status_code == 200, answer.text
    p = fieldkit.open(project)
    try:
        store = an.open_keystore(p)
        try:
            assert store.get("P03").names == ("Dana Okafor", "Dee") and len(store.pseudonyms()) == 1
        finally:
            store.close()
        assert an.anonymise_record(p, record) == "Later [P03] rang the office again."
    finally:
        p.close()


def test_a_decision_made_with_the_cli_is_shown_in_the_workbench(client, project, monkeypatch):
    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    record = with_keys(project)
    signed_in(client)
    first = listed_on_page(client)
    assert f'data-record="{record}"' in client.get("/review?anonymise=1").text
    run = subprocess.run([str(Path(sys.executable).with_name("fieldkit")), "--project", str(project),
                          "anonymise", "review", record, "--reject", "1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    page = client.get("/review?anonymise=1").text
    items = re.findall(r'<li class="candidate status-(\w+)', page)
    assert items[0] == "rejected" and set(items[1:]) == {"pending"}
    assert listed_on_page(client)[0] == first[0]


def test_anonymisation_review_refuses_clearly_and_writes_nothing(client, project, monkeypatch):
    from fieldkit.privacy import anonymiser as an

    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    record = note(project, REVIEW_TEXT)
    signed_in(client)
    page = client.get("/review?anonymise=1").text
    assert "no key store" in page and "fieldkit keys init" in page  # listed, but decisions need one
    name = next(c for c in listed_on_page(client) if REVIEW_TEXT[c["start"]:c["end"]] == "Jane Okafor")
    for action, extra in (("accept", {}), ("reject", {}), ("register", {"pseudonym": "X02"})):
        refused = decide(client, name, action, **extra)
        assert refused.status_code == 400 and "no key store" in refused.json()["error"], action
    wrong = decide(client, name, "ignore")
    assert wrong.status_code == 400 and "one of accept, reject, register" in wrong.json()["error"]
    with_keys(project)
    name = next(c for c in listed_on_page(client) if REVIEW_TEXT[c["start"]:c["end"]] == "Jane Okafor")
    assert decide(client, name, "register").status_code == 400  # no pseudonym given
    stale = decide(client, {**name, "digest": "0" * len(name["digest"])}, "accept")
    assert stale.status_code == 400 and "no longer listed" in stale.json()["error"]
    p = fieldkit.open(project)
    try:
        assert an.log_entries(p, record) == [] and review_decisions(p) == []
    finally:
        p.close()


def review_decisions(project) -> list:
    return project.db.execute("select * from anonymisation_decisions").fetchall()


def test_a_locked_key_store_is_refused_on_the_page_and_in_the_api(client, project, monkeypatch):
    from fieldkit.privacy import anonymiser as an
    from fieldkit.privacy import review

    monkeypatch.delenv("FIELDKIT_KEYS_PASSPHRASE", raising=False)
    record = with_keys(project, passphrase="correct horse")
    signed_in(client)
    page = client.get("/review?anonymise=1").text
    assert "key store is locked" in page and "FIELDKIT_KEYS_PASSPHRASE" in page and "data-digest" not in page
    p = fieldkit.open(project)
    try:
        item = review.candidates(p, [record], passphrase="correct horse")[0]
    finally:
        p.close()
    refused = decide(client, {"record": record, "start": item.start, "end": item.end, "digest": item.digest},
                     "accept")
    assert refused.status_code == 400 and "key store is locked" in refused.json()["error"]
    monkeypatch.setenv("FIELDKIT_KEYS_PASSPHRASE", "correct horse")
    assert len(listed_on_page(client)) == 6
    p = fieldkit.open(project)
    try:
        assert an.log_entries(p, record) == []
    finally:
        p.close()


# library helpers the workbench added ----------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Word", "word", " ", ". ", "! ", "\n", "\n\n", "é", "😀", "?"]), max_size=30)
       .map("".join), st.data())
def test_extend_span_covers_the_span_and_stays_in_its_paragraph(text, data):
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    for unit in ("sentence", "paragraph"):
        s, e = codings.extend_span(text, start, end, unit)
        assert s <= start and end <= e
        if "\n\n" not in text[max(0, start - 1):end + 1]:  # a span clear of paragraph breaks
            assert "\n\n" not in text[s:e]
    ps, pe = codings.extend_span(text, start, end, "paragraph")
    ss, se = codings.extend_span(text, start, end, "sentence")
    assert ps <= ss and se <= pe


def test_extend_span_finds_sentences_and_paragraphs():
    text = "First one. The panel had a say! Third?\n\nNew para here."
    at = text.index("panel")
    assert codings.extend_span(text, at, at + 5, "sentence") == (11, 31)
    assert codings.extend_span(text, at, at + 5, "paragraph") == (0, 38)


def test_find_phrase_ignores_case_and_spacing_but_not_word_edges():
    text = "The Panel,\nthe panel  met; panels are not a panel-member. A subpanel."
    assert codings.find_phrase(text, "the panel") == [(0, 9), (11, 20)]
    assert codings.find_phrase(text, "panel") == [(4, 9), (15, 20), (44, 49)]


# the command ----------------------------------------------------------------------------------
def test_fieldkit_help_does_not_import_the_server(tmp_path):
    code = "import sys; sys.argv = ['fieldkit', '--help']\nfrom fieldkit.cli import cli\ntry:\n    cli()\nexcept SystemExit:\n    pass\n"
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    assert "serve" in result.stdout
    names = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "click" in names
    for heavy in ("starlette", "uvicorn", "jinja2"):
        assert heavy not in names


def test_without_the_extra_serve_says_what_to_install(project, tmp_path):
    blocker = tmp_path / "block"
    (blocker / "starlette").mkdir(parents=True)
    (blocker / "starlette" / "__init__.py").write_text("raise ImportError('not installed')\n")
    import os

    env = {**os.environ, "PYTHONPATH": str(blocker)}
    result = subprocess.run([sys.executable, "-m", "fieldkit", "serve", "-p", str(project)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: the workbench needs its extra: pip install 'fieldkit[serve]'"


def printed_address(proc) -> str:
    """The token address a running ``fieldkit serve`` printed ("" if none in its first lines)."""
    for _ in range(10):
        line = proc.stdout.readline()
        if "token=" in line:
            return line.strip()
    return ""


def test_the_installed_command_serves_on_loopback_with_a_token(project):
    """``fieldkit serve`` in a fresh process: prints a token URL on 127.0.0.1 that works,
    and refuses requests without it."""
    import http.client
    import os
    import signal

    proc = subprocess.Popen(["fieldkit", "serve", "-p", str(project), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = printed_address(proc)
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([\w-]{40,})", url)
        assert match, url
        port, token = int(match.group(1)), match.group(2)
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                refused = conn.getresponse()
                break
            except ConnectionRefusedError:
                import time

                time.sleep(0.05)
        assert refused.status == 403
        if Path("/proc/net/tcp").exists():  # listening on 127.0.0.1 only, not on every interface
            listening = [line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                         if line.split()[3] == "0A"]
            assert f"0100007F:{port:04X}" in listening and f"00000000:{port:04X}" not in listening
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", f"/?token={token}")
        entered = conn.getresponse()
        assert entered.status == 303 and entered.getheader("location") == "/"
        cookie = entered.getheader("set-cookie").split(";", 1)[0]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/", headers={"Cookie": cookie})
        assert conn.getresponse().status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
    assert os.path.exists(project)


def test_open_in_a_project_folder_opens_the_token_address_in_the_browser(project, tmp_path):
    """``cd study && fieldkit serve --open``: the browser (here a script named by $BROWSER, as
    Python's webbrowser module reads it) is given exactly the printed token address."""
    import os
    import signal
    import time

    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser)}
    env.pop("FIELDKIT_PROJECT", None)
    proc = subprocess.Popen(["fieldkit", "serve", "--port", "0", "--open"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        printed = printed_address(proc)
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", printed), printed
        assert opened.read_text() == printed
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert "Traceback" not in err


def test_another_interface_is_used_only_when_asked_and_with_a_warning(project):
    import signal

    proc = subprocess.Popen(["fieldkit", "serve", "-p", str(project), "--port", "0", "--host", "0.0.0.0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(10):
            if "token=" in proc.stdout.readline():
                break
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert err.startswith("Warning: listening on 0.0.0.0, not only on this computer")
