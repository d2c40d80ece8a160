"""Markdown to safe HTML: rendered by markdown-it, then cleaned with an allow-list (nh3)."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML is never passed through (html=False), and a bare URL becomes a link (linkify).
_parser = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False}).enable(
    ["table", "strikethrough", "linkify"]
)

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


# Pages show the same texts again and again (a group's description on every view of its page
# cost ~40 % of that page's handler): the rendering of short texts is kept, keyed by the text
# itself, so a changed text is simply a new key. Long texts are rendered each time, so the
# cache holds at most about RENDERED_KEPT times LONGEST_KEPT characters.
RENDERED_KEPT = 1024
LONGEST_KEPT = 8_000


def render_markdown(source: str | None) -> Markup:
    text = source or ""
    return _render_kept(text) if len(text) <= LONGEST_KEPT else _render(text)


@functools.lru_cache(maxsize=RENDERED_KEPT)
def _render_kept(source: str) -> Markup:
    return _render(source)


def _render(source: str) -> Markup:
    html = _parser.render(source)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - cleaned by nh3 with the allow-list above
