"""Turn an email's HTML part into plain text that keeps the structure the cleaner needs.

html2text is a dependency, but it writes Markdown: it escapes a signature's ``--`` as
``\\--``, prefixes headings with ``#``, runs table cells together (``cell1cell2``) and
draws ``<hr>`` as ``* * *``. Email HTML needs less and needs it exact: one line per
block, quoted ``<blockquote>`` text prefixed with ``> `` (so quote removal works the same
on HTML-only and plain-text mail), cells separated by a space, scripts and styles dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content of these elements is never text the reader sees.
_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "xml"}
# Elements that start and end a line.
_BLOCKS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
}
# Blocks that read as paragraphs: a blank line around them.
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}
_CELLS = {"td", "th"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class _TextCollector(HTMLParser):
    """Collects (quote depth, text) lines while the HTML is fed through it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._quote_depth = 0
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag == "br":
            # <div><br></div> is how webmail writes an empty line.
            self._break(blank=not "".join(self._line).strip())
        elif tag in _CELLS:
            self._line.append(" ")
        elif tag in _BLOCKS:
            self._break(blank=tag in _PARAGRAPHS)
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "li":
                self._line.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <hr/>: same as the open tag; there is no content to close.
        if tag not in _SKIPPED:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self._break(blank=tag in _PARAGRAPHS)
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._add(first)
            for piece in rest:
                self._break()
                self._add(piece)
        else:
            self._add(_SPACES.sub(" ", data))

    def _add(self, text: str) -> None:
        if not text:
            return
        if not "".join(self._line).strip():
            self._line_depth = self._quote_depth
        self._line.append(text)

    def _break(self, blank: bool = False) -> None:
        text = "".join(self._line).replace("\xa0", " ").strip()
        self._line = []
        if text:
            self.lines.append((self._line_depth, text))
        if blank and self.lines and self.lines[-1][1]:
            self.lines.append((self._quote_depth, ""))

    def close(self) -> None:
        super().close()
        self._break()


def html_to_text(html: str) -> str:
    """Plain text of ``html``: a line per block, ``> `` before quoted lines, no markup.

    Never raises on malformed HTML; whatever text can be found is returned.
    """
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    out: list[str] = []
    for depth, text in collector.lines:
        line = ("> " * depth + text) if text else ">" * depth
        if not line and (not out or not out[-1]):
            continue  # collapse runs of blank lines
        out.append(line.rstrip())
    return "\n".join(out).strip("\n")
