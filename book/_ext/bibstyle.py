"""One citation style, author-year, in the text and in the reference list.

sphinxcontrib-bibtex's ``author_year`` reference style writes ``[Jaillet et al., 2025]`` in the
text while the reference list keeps pybtex's alpha labels (``[JJP+25]``), and two papers by the
same authors in the same year (Agrawal et al. 2024: Vidur and Sarathi-Serve) would read alike.
This extension registers:

* the pybtex label style and bibliography style ``author_year``: each entry's label is
  ``Jaillet et al., 2025`` (one author: ``Yao, 1977``; two: ``Garey and Johnson, 1979``), with
  ``a``, ``b`` appended to the year when two labels coincide; the list is sorted by author, year
  and title (``bibtex_default_style: author_year``);
* the reference style ``author_year_round`` (``bibtex_reference_style``): ``{cite:p}`` gives
  ``(Jaillet et al., 2025)``, ``{cite:t}`` gives ``Garey and Johnson (1979)``, both from the
  same label, so the text and the list always agree.
"""

from collections import Counter
from dataclasses import dataclass, field

import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import node
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearTextualReferenceStyle)
from sphinxcontrib.bibtex.style.referencing.basic_label import (
    BasicLabelParentheticalReferenceStyle)
from sphinxcontrib.bibtex.style.template import join, join2, post_text, pre_text, reference


def _last(person) -> str:
    """A person's last name as plain text (LaTeX accents decoded, braces dropped)."""
    return str(Text.from_latex(" ".join(person.prelast_names + person.last_names)))


def _authors(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last(p) for p in people]
    if not names:
        return str(Text.from_latex(entry.fields.get("title", "Anonymous")))
    if len(names) >= 3 or (len(names) == 2 and names[1].lower() == "others"):
        return f"{names[0]} et al."
    return " and ".join(names)


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels ``Author et al., 2025``; coinciding labels get ``a``, ``b``, ... after the year."""

    def format_labels(self, sorted_entries):
        labels = [f"{_authors(e)}, {e.fields.get('year', 'n.d.')}" for e in sorted_entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] == 1:
                yield label
            else:
                yield label + chr(ord("a") + seen[label])
                seen[label] += 1


class AuthorYearStyle(AlphaStyle):
    """pybtex's alpha style (sorted by author, year, title) with author-year labels."""

    default_label_style = "author_year"


@node
def label_year(children, data):
    """The year part of the entry's label (``2024a``): what follows its last comma."""
    assert not children
    return Text(data["formatted_entry"].label.rpartition(", ")[2])


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    """``Garey and Johnson (1979)``, the year taken from the label (so ``2024a`` if needed)."""

    def inner(self, role_name):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[self.bracket.left,
                 join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                     pre_text, reference[label_year], post_text],
                 self.bracket.right]]


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")


@dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """Parenthetical ``(label)`` and textual ``Author (year)``, round brackets."""

    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)
    person: PersonStyle = field(default_factory=PersonStyle)

    def __post_init__(self):
        super().__post_init__()
        # replace the two main styles; the extra ones (author, label, year roles) stay
        self.styles[0] = BasicLabelParentheticalReferenceStyle(
            bracket=self.bracket_parenthetical, pre_text_sep=self.pre_text_sep,
            post_text_sep=self.post_text_sep)
        self.styles[1] = _Textual(bracket=self.bracket_textual, person=self.person,
                                  text_reference_sep=self.text_reference_sep,
                                  pre_text_sep=self.pre_text_sep,
                                  post_text_sep=self.post_text_sep)
        self.role_style.update((name, style) for style in self.styles[:2]
                               for name in style.role_names())


pybtex.plugin.register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
pybtex.plugin.register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
sphinxcontrib.bibtex.plugin.register_plugin("sphinxcontrib.bibtex.style.referencing",
                                            "author_year_round", RoundAuthorYearReferenceStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
