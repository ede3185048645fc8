"""A page's HTML as a small tree, to read what a user would see: texts (entities decoded), table
cells, links, elements by id. The standard library's parser, so text arrives exactly as the
browser would show it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements a browser lays out as blocks (or cells): their text is apart from its neighbours'.
BLOCK = {"div", "p", "li", "td", "th", "tr", "br", "h1", "h2", "h3", "section", "dd", "dt", "pre", "ul", "summary"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            else:
                parts.append(f" {child.text()} " if child.tag in BLOCK else child.text())
        return "".join(parts)

    def words(self) -> str:
        return " ".join(self.text().split())

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.walk()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        found = []
        for e in self.walk():
            if tag is not None and e.tag != tag:
                continue
            if all(_has(e, k.rstrip("_"), v) for k, v in attrs.items()):
                found.append(e)
        return found

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.walk() if e.attrs.get("id") == element_id]
        return found

    def rows(self) -> list[list[str]]:
        """Cell texts of a table's body rows."""
        return [[cell.words() for cell in row.find_all("td")] for row in self.find_all("tr") if row.find_all("td")]

    def links(self) -> list[tuple[str, str]]:
        return [(str(a.attrs.get("href")), a.words()) for a in self.find_all("a")]


def _has(element: Element, name: str, value: str) -> bool:
    actual = element.attrs.get(name)
    if name == "class":
        return value in (actual or "").split()
    return actual == value


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
