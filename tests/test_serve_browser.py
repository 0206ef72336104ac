"""The workbench in a real browser: Debian's Chromium, headless, driven by Playwright.

One server and one browser serve the whole module (each takes a moment to start); the
tests run in order, as one coding session. What the page did is always checked through
the library. In CI (``CI`` set) a missing Chromium fails the run instead of skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import fieldkit
from fieldkit.coding import autocode, codebook, codings
from fieldkit.fieldwork import capture
from serve_support import CHROMIUM, check_review_decisions, chromium_context, running_server

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"Chromium is missing ({CHROMIUM}); .ci/run installs it with apt")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright")

#: emoji, a combining accent and right-to-left text before the phrase coded, so a wrong
#: UTF-16 / code point conversion would land the coding elsewhere
TEXT = ("Before 😀😀 the cafe\u0301 meeting «شراكة حقيقية» was promised. The panel felt it was "
        "consultation not partnership. Then the panel went quiet.\n\nLater 🇬🇧 the chair thanked everyone.")
PHRASE = "consultation not partnership"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "study"
    p = fieldkit.init(path, author="alice")
    try:
        codebook.add_code(p, "power")
        codebook.add_code(p, "voice", parent="power", keywords=["word:chair"])
        ids = {"main": capture.note(p, TEXT).id,
               "pair": capture.note(p, "Alpha beta gamma delta epsilon zeta eta theta.").id}
        codings.apply_code(p, ids["pair"], "power", start=0, end=16, coder="alice")
        codings.apply_code(p, ids["pair"], "power", start=6, end=22, coder="bob")
        autocode.run_autocoder(p, "keywords", all_records=True)
    finally:
        p.close()
    return path, ids


@pytest.fixture(scope="module")
def session(study):
    path, ids = study
    with running_server(path, coder="alice") as (base, token), chromium_context() as context:
        page = context.new_page()
        errors: list = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield {"page": page, "context": context, "base": base, "token": token, "path": path, "ids": ids,
               "errors": errors}
    assert not errors, errors


def library(session):
    return fieldkit.open(session["path"])


def open_page(session, url):
    page = session["page"]
    page.goto(session["base"] + url)
    page.wait_for_selector("body[data-ready]")
    return page


def phrase_box(page, phrase: str) -> dict:
    """Where ``phrase`` is on the screen: the middle of its first and last character."""
    box = page.evaluate("""(phrase) => {
        for (const span of document.querySelectorAll('#body span[data-u]')) {
            const i = span.firstChild.data.indexOf(phrase);
            if (i < 0) continue;
            const r = document.createRange();
            r.setStart(span.firstChild, i);
            r.setEnd(span.firstChild, i + phrase.length);
            const rects = r.getClientRects(), a = rects[0], b = rects[rects.length - 1];
            return {x1: a.left + 1, y1: (a.top + a.bottom) / 2, x2: b.right - 1, y2: (b.top + b.bottom) / 2};
        }
        return null;
    }""", phrase)
    assert box, f"{phrase!r} is not on the page"
    return box


def select_with_mouse(page, phrase: str) -> None:
    """Drag the mouse across ``phrase`` as a person would."""
    box = phrase_box(page, phrase)
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=8)
    page.mouse.up()
    assert page.evaluate("window.getSelection().toString()") == phrase


def highlighted(page) -> list[str]:
    return page.evaluate("""() => { const out = [];
        for (const [name, h] of CSS.highlights) if (name.startsWith('code-')) for (const r of h) out.push(r.toString());
        return out.sort(); }""")


def wait_toast(page, text: str) -> None:
    page.wait_for_function("(t) => document.querySelector('#toast').textContent.includes(t)", arg=text)


def test_the_token_url_opens_the_workbench_and_leaves_the_address(session):
    page = session["page"]
    page.goto(f"{session['base']}/?token={session['token']}")
    assert page.url == session["base"] + "/"
    assert "token" not in page.url
    (cookie,) = [c for c in session["context"].cookies() if c["name"].startswith("fieldkit_token_")]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.locator("h2", has_text="Encounters").is_visible()


def test_select_with_the_mouse_code_with_the_keyboard_and_it_is_stored_at_the_right_offsets(session):
    record = session["ids"]["main"]
    page = open_page(session, f"/doc/{record}")
    select_with_mouse(page, PHRASE)
    page.keyboard.press("c")
    page.keyboard.type("voice")
    page.keyboard.press("Enter")
    wait_toast(page, "Coded")
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert highlighted(page) == [PHRASE]
    assert page.locator("#codings li").first.inner_text().split()[:3] == ["power/voice", "·", "alice"]
    p = library(session)
    try:
        (made,) = codings.list_codings(p, record=record, coder="alice")
        body = p.get(record).body
        assert (made.start, made.end) == (body.index(PHRASE), body.index(PHRASE) + len(PHRASE))
        assert body[made.start:made.end] == PHRASE
        assert codings.find_quote(body, PHRASE) == [(made.start, made.end)]  # what `code --quote` finds
    finally:
        p.close()
    # a recently used code is on a number key
    select_with_mouse(page, "the chair thanked everyone")
    page.keyboard.press("1")
    wait_toast(page, "Coded")
    assert sorted(highlighted(page)) == sorted([PHRASE, "the chair thanked everyone"])


def test_rebound_a_coding_by_clicking_it_and_selecting_the_new_extent(session):
    record = session["ids"]["main"]
    page = open_page(session, f"/doc/{record}")
    box = phrase_box(page, PHRASE)
    page.mouse.click((box["x1"] + box["x2"]) / 2, box["y1"])  # a click on a highlight selects its coding
    page.wait_for_selector("#active-coding:not([hidden])")
    assert page.locator("#active-text").inner_text() == PHRASE
    select_with_mouse(page, "it was consultation not partnership")
    page.keyboard.press("b")
    wait_toast(page, "re-bounded")
    p = library(session)
    try:
        body = p.get(record).body
        found = [c for c in codings.list_codings(p, record=record, coder="alice") if c.code_id ==
                 codings.resolve_code(p, "power/voice").id and c.start < body.index("Later")]
        (moved,) = found
        assert body[moved.start:moved.end] == "it was consultation not partnership"
        assert p.history(moved.id)[-1].reason == "re-bounded in the workbench"
    finally:
        p.close()


def test_remove_a_coding_with_the_delete_key(session):
    record = session["ids"]["main"]
    page = open_page(session, f"/doc/{record}")
    page.locator("#codings li", has_text="the chair thanked").click()
    page.keyboard.press("Delete")
    wait_toast(page, "removed")
    assert "the chair thanked everyone" not in highlighted(page)
    p = library(session)
    try:
        body = p.get(record).body
        left = [body[c.start:c.end] for c in codings.list_codings(p, record=record, coder="alice")]
        assert left == ["it was consultation not partnership"]
    finally:
        p.close()


def test_annotate_hover_move_edges_by_a_word_code_a_whole_record_and_a_keyboard_selection(session):
    record = session["ids"]["main"]
    page = open_page(session, f"/doc/{record}")
    box = phrase_box(page, PHRASE)
    page.mouse.click((box["x1"] + box["x2"]) / 2, box["y1"])
    page.wait_for_selector("#active-coding:not([hidden])")
    page.keyboard.press("n")
    page.keyboard.type("said twice")
    page.get_by_role("button", name="Save note").click()
    wait_toast(page, "Note saved")
    page.mouse.move(box["x1"] + 2, box["y1"])
    page.mouse.move(box["x1"] + 4, box["y1"])  # hovering the highlight shows code, coder and note
    page.wait_for_selector("#tooltip:not([hidden])")
    assert page.locator("#tooltip").inner_text().strip() == "power/voice · alice · said twice"
    assert page.locator("#margin .bar").first.get_attribute("title") == "power/voice · alice · said twice"

    def move(key: str) -> str:
        before = page.locator("#active-text").inner_text()
        page.keyboard.press(key)
        page.wait_for_function("(t) => document.querySelector('#active-text').textContent !== t", arg=before)
        return page.locator("#active-text").inner_text()

    assert move("Alt+Shift+ArrowRight") == "it was consultation not partnership."
    assert move("Alt+Shift+ArrowRight") == "it was consultation not partnership. Then"
    assert move("Alt+ArrowRight") == "was consultation not partnership. Then"
    assert move("Alt+Shift+ArrowLeft") == "was consultation not partnership."
    assert move("Alt+ArrowLeft") == "it was consultation not partnership."
    # drag the start handle to just before "consultation", the end handle to just after "not"
    end = phrase_box(page, "consultation not")  # x2: inside the right half of its last character
    for edge, x, y in (("start", box["x1"], box["y1"]), ("end", end["x2"], end["y2"])):
        handle = page.locator(f".handle[data-edge={edge}]").bounding_box()
        before = page.locator("#active-text").inner_text()
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        page.mouse.move(x, y, steps=6)
        page.mouse.up()
        page.wait_for_function("(t) => document.querySelector('#active-text').textContent !== t", arg=before)
    assert page.locator("#active-text").inner_text() == "consultation not"
    p = library(session)
    try:
        whole = capture.note(p, "A short exchange, coded as a whole.").id
        (coding,) = [c for c in codings.list_codings(p, record=record, coder="alice")]
        body = p.get(record).body
        assert body[coding.start:coding.end] == "consultation not" and coding.note == "said twice"
    finally:
        p.close()
    page = open_page(session, f"/doc/{whole}")
    page.keyboard.press("w")
    page.keyboard.type("voice")
    page.keyboard.press("Enter")
    wait_toast(page, "Coded")
    select_with_mouse(page, "short")  # a selection is widened with the keyboard, then coded
    for _ in range(len(" exchange")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("c")
    page.keyboard.type("voice")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#codings li').length === 2")
    p = library(session)
    try:
        made = sorted(codings.list_codings(p, record=whole), key=lambda c: c.start or -1)
        voice = codings.resolve_code(p, "voice").id
        assert [(c.start, c.end, c.whole_record, c.coder, c.code_id) for c in made] == [
            (None, None, True, "alice", voice), (2, 16, False, "alice", voice)]
    finally:
        p.close()


def test_accept_a_proposal_with_one_key(session):
    page = open_page(session, "/review")
    first = page.locator("#proposals li.proposal").first
    proposal_id = first.get_attribute("data-id")
    page.keyboard.press("a")
    wait_toast(page, "Done")
    p = library(session)
    try:
        proposal = p.get(proposal_id)
        assert codings.find_duplicate(p, proposal.record_id, proposal.code_id, "alice", proposal.start,
                                      proposal.end) is not None
    finally:
        p.close()


#: fictional: a registered name, a name nobody registered, an @mention and a room number
REVIEW_TEXT = "Met Dana Okafor at HMP Thornbury. Mr Hendry said @zed99 rang about room 4412."


def test_anonymisation_review_accept_reject_and_add_to_the_key_store(session, tmp_path):
    from fieldkit.exchange.exporting import ExportOptions, run_export
    from fieldkit.fieldwork.registers import add_participant
    from fieldkit.privacy import anonymiser as an
    p = library(session)
    try:
        add_participant(p, "P03")
        store = an.create_keystore(p, session["path"].parent / "keys" / "study.keys")
        store.add("P03", "Dana Okafor")
        store.close()
        record = capture.note(p, REVIEW_TEXT).id
    finally:
        p.close()
    page = open_page(session, f"/review?anonymise=1&record={record}")

    def candidate(text: str):
        item = page.locator("#candidates li.candidate", has_text=f"«{text} →")
        assert item.count() == 1, text
        return item

    candidate("@zed99").locator("p.meta").click()
    page.keyboard.press("a")
    wait_toast(page, "Accepted")
    candidate("4412").locator("p.meta").click()
    page.keyboard.press("r")
    wait_toast(page, "Rejected")
    candidate("Mr Hendry").locator("p.meta").click()
    page.keyboard.press("n")
    page.keyboard.type("X01")
    page.keyboard.press("Enter")
    wait_toast(page, "Added to the key store")
    assert candidate("4412").locator(".status").inner_text() == "rejected"

    p = library(session)
    try:
        check_review_decisions(p, record, REVIEW_TEXT)
        run_export(p, "markdown", tmp_path / "out", ExportOptions())
    finally:
        p.close()
    exported = "\n".join(f.read_text(encoding="utf-8") for f in (tmp_path / "out").rglob("*.md"))
    assert "rang about room 4412" in exported and "[X01] said" in exported
    assert "@zed99" not in exported and "Hendry" not in exported and "Dana Okafor" not in exported


def test_write_a_memo_on_a_selection(session):
    record = session["ids"]["main"]
    page = open_page(session, f"/doc/{record}")
    select_with_mouse(page, "شراكة حقيقية")
    page.keyboard.press("m")
    page.keyboard.type("Partnership named in Arabic; ask the interpreter.")
    page.locator("#memo-private").check()
    page.get_by_role("button", name="Save memo").click()
    wait_toast(page, "Memo saved")
    p = library(session)
    try:
        (memo,) = p.list("memo")
        body = p.get(record).body
        at = body.index("شراكة حقيقية")
        assert memo.links == (record,) and "> شراكة حقيقية" in memo.body
        assert f"characters {at}-{at + 12}" in memo.body and capture.is_private(memo)
    finally:
        p.close()


def test_search_and_code_all_hits_after_a_preview(session):
    page = open_page(session, "/search?q=panel")
    assert page.locator("mark").count() == 2
    page.locator("#code-all-code").fill("power")
    page.get_by_role("button", name="Preview “code all hits”").click()
    page.wait_for_selector("#preview:not([hidden])")
    assert page.locator("#preview-list li").count() == 2
    p = library(session)
    try:
        before = len(codings.list_codings(p, code="power", coder="alice"))
    finally:
        p.close()
    page.get_by_role("button", name="Code the checked hits").click()
    wait_toast(page, "Coded 2 hit(s)")
    p = library(session)
    try:
        body = p.get(session["ids"]["main"]).body
        coded = [body[c.start:c.end] for c in codings.list_codings(p, code="power", coder="alice")
                 if c.record_id == session["ids"]["main"]]
        assert len(codings.list_codings(p, code="power", coder="alice")) == before + 2
        assert coded == ["panel", "panel"]
    finally:
        p.close()


def test_two_coders_side_by_side_with_disagreements_marked(session):
    record = session["ids"]["pair"]
    page = open_page(session, f"/compare/{record}?a=alice&b=bob")
    assert page.locator(".column h2").all_inner_texts() == ["alice", "bob"]
    marked = page.evaluate("""() => [0, 1].map((i) => Array.from(CSS.highlights.get('disagree' + i) || [])
        .map((r) => r.toString()).sort())""")
    assert marked == [[" delta", "Alpha "], [" delta", "Alpha "]]  # alice has 0-16, bob 6-22
    assert "Cohen" in page.locator(".agreement").first.inner_text()


def test_a_request_without_the_token_is_refused(session):
    session["context"].clear_cookies()
    response = session["page"].goto(session["base"] + f"/doc/{session['ids']['main']}")
    assert response.status == 403
    assert "needs the token" in session["page"].content()
