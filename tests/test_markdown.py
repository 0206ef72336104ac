"""Tests for fieldkit.core.markdown: tags, mentions, observer comments, plain text and HTML."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.core.markdown import (
    ParsedBody,
    normalise,
    parse_body,
    strip_comments,
    to_html,
    to_plain_text,
)

EXAMPLE = (
    "The LI hands the intro to the EbE. #power\n"
    "> OC: I wonder whether @P03 felt this as tokenism.\n"
)


def tags(text: str) -> tuple[str, ...]:
    return parse_body(text).tags


def mentions(text: str) -> tuple[str, ...]:
    return parse_body(text).mentions


# --------------------------------------------------------------------------- normalise


def test_normalise_line_endings():
    assert normalise("a\r\nb\rc\n") == "a\nb\nc\n"


def test_normalise_nfc():
    decomposed = "Cafe\u0301 Harbourside"
    assert normalise(decomposed) == "Caf\u00e9 Harbourside"


@given(st.text())
def test_normalise_is_idempotent_and_has_no_cr(text):
    once = normalise(text)
    assert normalise(once) == once
    assert "\r" not in once
    assert unicodedata.is_normalized("NFC", once)


# --------------------------------------------------------------------------- tags


def test_example_from_the_brief():
    body = parse_body(EXAMPLE)
    assert body == ParsedBody(
        tags=("power",),
        mentions=("P03",),
        comments=("I wonder whether @P03 felt this as tokenism.",),
        description="The LI hands the intro to the EbE. #power",
    )


def test_tags_lower_cased_deduplicated_in_order():
    assert tags("#Ritual then #power and #POWER, then #ritual again") == ("ritual", "power")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("#co-production", ("co-production",)),
        ("#power_imbalance", ("power_imbalance",)),
        ("#2nd-visit", ("2nd-visit",)),
        ("(#kinship) and #market.", ("kinship", "market")),
        ('"#gift", #debt;', ("gift", "debt")),
        ("#trailing- end", ("trailing",)),
        ("#a#b", ("a",)),
    ],
)
def test_tag_shapes(text, expected):
    assert tags(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We wrote it in C# at the depot.",
        "See issue#3 on the tracker.",
        "# Heading only",
        "#123 and #4_5",
        "#-dash",
        "a lone # here",
    ],
)
def test_not_tags(text):
    assert tags(text) == ()


def test_heading_text_can_hold_tags_but_marker_is_not_one():
    assert tags("# Market day #exchange\n\n## Second") == ("exchange",)


def test_unicode_tags():
    assert tags("#café #Straße #ñandú #δρόμος") == ("café", "straße", "ñandú", "δρόμος")


def test_decomposed_tag_is_normalised():
    assert tags("#cafe\u0301") == ("caf\u00e9",)


def test_tags_ignored_in_code_span():
    assert tags("Run `grep #power` now #real") == ("real",)


def test_tags_ignored_in_fenced_and_indented_code():
    text = "```\n#fenced @P01\n```\n\n    #indented @P02\n\nText #kept"
    body = parse_body(text)
    assert body.tags == ("kept",)
    assert body.mentions == ()


def test_link_label_counts_url_does_not():
    body = parse_body('[#archive @P07](https://example.org/page#fragment "#titled @X9")')
    assert body.tags == ("archive",)
    assert body.mentions == ("P07",)


def test_url_fragments_are_not_tags():
    text = (
        "<https://example.org/notes#autolinked> and "
        "bare https://example.org/notes#bare and https://example.org/@handle"
    )
    body = parse_body(text)
    assert body.tags == ()
    assert body.mentions == ()


def test_inline_html_and_html_blocks_ignored():
    text = '<span title="#attr @P01">seen</span>\n\n<div>\n#blocky @P02\n</div>\n\nplain #ok'
    body = parse_body(text)
    assert body.tags == ("ok",)
    assert body.mentions == ()


def test_text_between_inline_html_tags_counts():
    assert tags("Marked <b>#bold</b> words") == ("bold",)


def test_escaped_hash_is_not_a_tag():
    assert tags(r"Price list \#notatag and &#35;entity") == ()


def test_image_alt_text_counts():
    assert tags("![sketch of #stall](sketch.png)") == ("stall",)


def test_tags_in_tables():
    text = "| who | topic |\n|---|---|\n| @P04 | #kinship |\n"
    body = parse_body(text)
    assert body.tags == ("kinship",)
    assert body.mentions == ("P04",)


def test_tags_in_emphasis():
    assert tags("**#loud** and *#quiet*") == ("loud", "quiet")


# --------------------------------------------------------------------------- mentions


def test_mentions_as_written_and_deduplicated():
    assert mentions("@P03 met @S2 and @P03 again, then @p03") == ("P03", "S2", "p03")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Met @P03.", ("P03",)),
        ("(@P03) and @S2's stall", ("P03", "S2")),
        ("@Site-North_2 opened", ("Site-North_2",)),
        ("@Ana and @Zoë", ("Ana", "Zoë")),
    ],
)
def test_mention_shapes(text, expected):
    assert mentions(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Write to ann@example.org today",
        "Contact @example.org",
        "Or @ann@example.org",
        "Not @3x or @_x or @ alone",
        "`@P03` in code",
    ],
)
def test_not_mentions(text):
    assert mentions(text) == ()


# --------------------------------------------------------------------------- observer comments


def test_oc_block_separated_from_description():
    body = parse_body("Opening talk.\n\n> OC: feels rehearsed #staging\n\nClosing talk.")
    assert body.comments == ("feels rehearsed #staging",)
    assert body.description == "Opening talk.\n\nClosing talk."
    assert body.tags == ("staging",)


@pytest.mark.parametrize("marker", ["OC:", "oc:", "Oc :", "OC:   ", "**OC:**"])
def test_oc_marker_variants(marker):
    body = parse_body(f"> {marker} the queue was silent")
    assert body.comments == ("the queue was silent",)
    assert body.description == ""


def test_ordinary_blockquote_stays_in_description():
    body = parse_body("> We never close on Sundays, said @P05.")
    assert body.comments == ()
    assert body.description == "We never close on Sundays, said @P05."
    assert body.mentions == ("P05",)


def test_oc_words_that_are_not_markers():
    body = parse_body("> OCD is not mentioned here\n\n> Notes: OC: later")
    assert body.comments == ()


def test_consecutive_oc_lines_are_separate_comments():
    body = parse_body("> OC: first thought\n> OC: second thought\n> continued")
    assert body.comments == ("first thought", "second thought\ncontinued")


def test_multi_paragraph_oc():
    body = parse_body("> OC: one\n>\n> two")
    assert body.comments == ("one\n\ntwo",)


def test_nested_oc_inside_ordinary_quote_and_list():
    text = "> quoted speech\n>\n> > OC: aside\n\n- item\n\n  > OC: in a list"
    body = parse_body(text)
    assert body.comments == ("aside", "in a list")
    assert "aside" not in body.description
    assert "in a list" not in body.description
    assert "quoted speech" in body.description


def test_inline_oc():
    body = parse_body("They laughed [OC: nervously? #tension @P03] and moved on.")
    assert body.comments == ("nervously? #tension @P03",)
    assert body.description == "They laughed and moved on."
    assert body.tags == ("tension",)
    assert body.mentions == ("P03",)


def test_inline_oc_with_brackets_and_emphasis():
    body = parse_body("Start [OC: see [the map] *again*] end")
    assert body.comments == ("see [the map] again",)
    assert body.description == "Start end"


def test_inline_oc_must_close():
    body = parse_body("Start [OC: never closed")
    assert body.comments == ()
    assert body.description == "Start [OC: never closed"


def test_oc_in_code_is_not_a_comment():
    body = parse_body("`[OC: code]`\n\n```\n> OC: fenced\n```\n\n\\[OC: escaped]")
    assert body.comments == ()


def test_comments_in_document_order():
    text = "a [OC: one]\n\n> OC: two\n\nb [OC: three]"
    assert parse_body(text).comments == ("one", "two", "three")


# --------------------------------------------------------------------------- plain text


def test_plain_text_has_no_markdown_syntax():
    text = (
        "# Title\n\nSome **bold** and *em* and `code` and [link](https://example.org).\n\n"
        "- first\n- second\n\n1. one\n2. two\n\n---\n\n> quoted"
    )
    assert to_plain_text(text) == (
        "Title\n\nSome bold and em and code and link.\n\n"
        "- first\n- second\n\n- one\n- two\n\nquoted"
    )


def test_plain_text_keeps_observer_comments():
    assert to_plain_text(EXAMPLE) == (
        "The LI hands the intro to the EbE. #power\n\n"
        "OC: I wonder whether @P03 felt this as tokenism."
    )


def test_plain_text_nested_list_and_code():
    text = "- outer\n  - inner\n\n```\nline one\nline two\n```"
    assert to_plain_text(text) == "- outer\n  - inner\n\nline one\nline two"


def test_plain_text_empty():
    assert to_plain_text("") == ""
    assert parse_body("   \n\n").description == ""


# --------------------------------------------------------------------------- HTML


def test_html_escapes_script():
    out = to_html("Hello <script>alert('x')</script>\n\n<script>\nbad()\n</script>")
    assert "<script" not in out
    assert "&lt;script&gt;" in out


def test_html_refuses_javascript_links():
    out = to_html("[click](javascript:alert(1))")
    assert 'href="javascript' not in out


def test_html_marks_oc_blockquotes():
    out = to_html(EXAMPLE + "\n> plain quote\n")
    assert '<blockquote class="oc">' in out
    assert out.count("<blockquote>") == 1


def test_html_wraps_inline_oc():
    out = to_html("They laughed [OC: *nervously*] and left.")
    assert '<span class="oc">[OC: <em>nervously</em>]</span>' in out


def test_html_leaves_misnested_inline_oc_alone():
    out = to_html("*start [OC: inside* outside]")
    assert "span" not in out
    assert out.startswith("<p><em>")


def test_html_keeps_escapes():
    assert to_html(r"\#not &amp; more") == "<p>#not &amp; more</p>\n"


# --------------------------------------------------------------------------- strip_comments


def test_strip_comments_block():
    text = "Before.\n\n> OC: gone\n> still gone\n\nAfter `> OC: kept in code`.\n"
    assert strip_comments(text) == "Before.\n\nAfter `> OC: kept in code`.\n"


def test_strip_comments_inline():
    assert strip_comments("They laughed [OC: oddly] and left.") == "They laughed and left."


def test_strip_comments_agrees_with_parse():
    text = "# Day 3 #market\n\n> OC: aside\n\n- @P01 sold [OC: cheaply] fish\n"
    stripped = strip_comments(text)
    assert parse_body(stripped).comments == ()
    assert parse_body(stripped).description == parse_body(text).description


# --------------------------------------------------------------------------- lazy import


def test_module_import_does_not_load_markdown_it():
    code = "import sys, fieldkit.core.markdown; sys.exit('markdown_it' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------- properties

FRAGMENTS = [
    "#", "@", "#tag", "#Σ", "@P03", "C#", "`", "```\n", "    ", "> ", "> OC: ", "OC:",
    "[OC: ", "[", "]", "(", ")", "](", "<", ">", "<script>", "</script>", "<SCRIPT ",
    "\n", "\r\n", "\r", "- ", "1. ", "*", "**", "_", "~~", "\\", "&amp;", "&#35;", "|",
    "---", "é", "e\u0301", "İ", "ß", " ", "https://example.org/#x", "ann@example.org",
    "javascript:", "<!--", "-->", "![", "\u200c", "\ufffc",
]

markdownish = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=40).map(
    "".join
)
any_text = st.one_of(st.text(), markdownish)


@settings(max_examples=300)
@given(any_text)
def test_parse_body_never_raises_and_tags_come_from_text(text):
    body = parse_body(text)
    folded = normalise(text).casefold()
    for tag in body.tags:
        assert tag and "#" not in tag
        assert ("#" + tag).casefold() in folded
    for mention in body.mentions:
        assert "@" + mention in normalise(text)
    assert len(set(body.tags)) == len(body.tags)
    assert len(set(body.mentions)) == len(body.mentions)


@settings(max_examples=300)
@given(any_text)
def test_to_html_never_contains_raw_script(text):
    assert "<script" not in to_html(text).lower()


@settings(max_examples=200)
@given(any_text)
def test_plain_text_and_strip_never_raise(text):
    assert isinstance(to_plain_text(text), str)
    stripped = strip_comments(text)
    assert "\r" not in stripped


# A body scanned without the parser (no Markdown syntax) must give what the parser gives.
from hypothesis import given as _given, settings as _settings, strategies as _st  # noqa: E402

from fieldkit.core.markdown import parse_body as _parse_body, tags_and_mentions as _tags_and_mentions  # noqa: E402

_ALPHABET = _st.sampled_from(list("abcXYZ09 #@-._,;:()!?'\"\n\t/=+é🙂") + ["\u0301", "  ", "\n\n", "    ", "# ", "---", "1. ", "- "])


@_settings(max_examples=400, deadline=None)
@_given(_st.lists(_ALPHABET, max_size=40).map("".join))
def test_fast_tags_and_mentions_match_full_parse(text):
    parsed = _parse_body(text)
    assert _tags_and_mentions(text) == (parsed.tags, parsed.mentions)


_ONE_PASS_SPECIAL = re.compile(
    r"[`\\<>\[\]&*_~|\t]| {4}|^[ \t]*#{1,6}(?:[ \t]|$)|^[ \t]*(?:-{3,}|={3,})[ \t]*$", re.MULTILINE
)


@_settings(max_examples=400, deadline=None)
@_given(_st.lists(_ALPHABET | _st.sampled_from(["=", "==", "===", "###### ", "####### ", " \t#", "\n---  "]), max_size=40).map("".join))
def test_special_check_matches_one_pass_pattern(text):
    # The line-by-line check is a faster spelling of one multiline pattern; they must agree.
    from fieldkit.core.markdown import _has_special

    assert _has_special(text) == bool(_ONE_PASS_SPECIAL.search(text))
