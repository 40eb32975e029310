r"""An online-text entry (Canvas's ``…_text.html``, Moodle's ``onlinetext.html``) as the text the
student typed: the words and formulas they see, one paragraph a line.

- Tags are dropped and entities decoded (``&lt;`` is ``<``, ``&amp;`` is ``&``), so a formula
  typed as text (``$$…$$``, ``\(…\)``, which both LMSs render with MathJax) reads as typed.
- A formula from an equation editor becomes ``$…$`` with its LaTeX: Canvas's equation images
  (``<img class="equation_image" data-equation-content="…">``, else its ``title``), MathML with a
  TeX annotation, and MathJax's ``<script type="math/tex">``.
- Paragraphs, line breaks, list items, headings and table rows start new lines; scripts,
  styles and the page's head are skipped; nothing in the page is run or fetched.

>>> html_text('<p>a) <img class="equation_image" data-equation-content="x^{2}"> &amp; more</p><p>b)</p>')
'a) $x^{2}$ & more\nb)'
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_text", "WEB_SUFFIXES"]

WEB_SUFFIXES = (".html", ".htm")
_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "section",
    "article",
    "hr",
    "dd",
    "dt",
}
_SKIPPED = {"script", "style", "head", "title", "noscript", "template", "iframe", "object", "svg"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0  # depth inside a skipped element
        self.math = 0  # depth inside <math>
        self.tex: list[str] | None = None  # collecting a TeX annotation or a math/tex script

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "math":
            self.math += 1
            return
        if self.math and tag == "annotation" and "tex" in attrs.get("encoding", "").lower():
            self.tex = []
            return
        if tag == "script" and "math/tex" in attrs.get("type", "").lower() and not self.skip:
            self.tex = []
            return
        if tag in _SKIPPED:
            self.skip += 1
            return
        if self.skip or self.math:
            return
        if tag == "img":
            latex = attrs.get("data-equation-content") or (
                attrs.get("title") if "equation_image" in attrs.get("class", "") else ""
            )
            if not latex and "equation_image" in attrs.get("class", ""):
                latex = re.sub(r"^LaTeX:\s*", "", attrs.get("alt", ""))
            if latex.strip():
                self.out.append(f" ${latex.strip()}$ ")
            return
        if tag in _BLOCKS:
            self.out.append("\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self.tex is not None and tag in ("annotation", "script"):
            latex = "".join(self.tex).strip()
            self.tex = None
            if latex and not self.skip:
                self.out.append(f" ${latex}$ ")
            return
        if tag == "math":
            self.math = max(0, self.math - 1)
            return
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if tag in _BLOCKS and not self.skip and not self.math:
            self.out.append("\n")

    def handle_data(self, data):
        if self.tex is not None:
            self.tex.append(data)
        elif not self.skip and not self.math:
            self.out.append(data)


def html_text(html: str) -> str:
    """The text of an online-text entry (see the module's doc)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    text = "".join(reader.out).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()
