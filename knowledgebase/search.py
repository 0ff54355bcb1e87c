"""PostgreSQL full-text search over the live article versions.

* The vectors are stored and weighted (title A, summary and tags B, body and workaround C;
  see migration 0002) and GIN-indexed for live rows; every query uses ``SEARCH_CONFIG``.
* People's words are never parsed as tsquery syntax: they are split into words, each
  becomes ``plainto_tsquery`` (which cannot fail), and only the last word, if it is plain
  ASCII letters and digits of at least ``MIN_PREFIX`` characters, becomes a prefix match
  (``word:*``) so results follow someone typing. (The prefix is stemmed like any word, so
  "printi" finds nothing until "print" or "printing" is typed: a known limit of prefix
  search on stemmed vectors.)
* The search page wants every word (AND). Suggestions and known-error matching want any
  word (OR), with the articles that match every word first, then by rank.
* Highlighting comes from ``ts_headline`` with private-use sentinel characters as markers.
  The text around them is HTML-escaped and only the markers become ``<mark>`` tags, so
  whatever an article or a query holds, the only markup in a snippet is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import BooleanField, F, QuerySet, Value
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import permissions
from .models import SEARCH_CONFIG, ArticleVersion

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
MIN_PREFIX = 3
MIN_QUERY_LENGTH = 3
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"
SENTINELS = (HIGHLIGHT_START, HIGHLIGHT_STOP)
_WORD = re.compile(r"[^\W_]+")
_PREFIXABLE = re.compile(r"[a-z0-9]+")


def strip_sentinels(text: str) -> str:
    """Remove the highlight markers from stored text so only ``ts_headline`` can produce them."""
    return (text or "").replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")


def terms_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased, at most ``MAX_TERMS`` of at most ``MAX_TERM_LENGTH`` characters."""
    return [word[:MAX_TERM_LENGTH] for word in _WORD.findall((text or "").lower())][:MAX_TERMS]


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    all_words: SearchQuery  # every word (the last one as a prefix)
    any_word: SearchQuery  # at least one word

    @property
    def text(self) -> str:
        return " ".join(self.terms)


def _term_query(term: str, *, prefix: bool) -> SearchQuery:
    if prefix and len(term) >= MIN_PREFIX and _PREFIXABLE.fullmatch(term):
        # Safe as raw tsquery syntax: nothing but [a-z0-9], then the prefix operator.
        return SearchQuery(f"{term}:*", config=SEARCH_CONFIG, search_type="raw")
    return SearchQuery(term, config=SEARCH_CONFIG, search_type="plain")


def parse(text: str, *, prefix: bool = True) -> ParsedQuery | None:
    """The queries for ``text``, or None when it holds too little to search for."""
    terms = terms_of(text)
    if not terms or sum(len(t) for t in terms) < MIN_QUERY_LENGTH:
        return None
    last = len(terms) - 1
    queries = [_term_query(term, prefix=prefix and i == last) for i, term in enumerate(terms)]
    return ParsedQuery(
        terms=tuple(terms),
        all_words=reduce(lambda a, b: a & b, queries),
        any_word=reduce(lambda a, b: a | b, queries),
    )


def _ranked(versions: QuerySet[ArticleVersion], matcher: SearchQuery) -> QuerySet[ArticleVersion]:
    return (
        versions.filter(search_vector=matcher)
        .annotate(rank=SearchRank(F("search_vector"), matcher))
        .order_by("-rank", "-article__helpful_count", "-published_at", "-pk")
    )


def _best_matches(
    versions: QuerySet[ArticleVersion], parsed: ParsedQuery, *, limit: int, fields: tuple[str, ...]
) -> list[ArticleVersion]:
    """The ``limit`` best rows matching any word, those matching every word first: one query.

    ``(every word, best first LIMIT n) UNION ALL (some words, best first LIMIT n) LIMIT n``:
    PostgreSQL runs the second branch only when the first has fewer than ``n`` rows, so
    a common word in a long subject does not make it rank a large share of the articles.
    """

    def branch(rows: QuerySet[ArticleVersion], matcher: SearchQuery, every: bool) -> QuerySet[ArticleVersion]:
        return (
            _ranked(rows, matcher).annotate(every_word=Value(every, output_field=BooleanField())).only(*fields)[:limit]
        )

    every = branch(versions, parsed.all_words, True)
    if len(parsed.terms) == 1:
        return list(every)
    some = branch(versions.exclude(search_vector=parsed.all_words), parsed.any_word, False)
    found = list(every.union(some, all=True)[:limit])
    # UNION ALL keeps the branches in order in practice; sorting the few rows makes it certain.
    return sorted(found, key=lambda v: (not v.every_word, -v.rank))


def search_versions(user, parsed: ParsedQuery) -> QuerySet[ArticleVersion]:
    """Live versions ``user`` may read that match every word, best first, with highlighted title and snippet.

    Paginate the result: the headlines are computed for the rows of the page only.
    """
    return (
        _ranked(permissions.live_versions(user), parsed.all_words)
        .select_related("category")
        .annotate(
            title_marked=SearchHeadline(
                "title",
                parsed.all_words,
                config=SEARCH_CONFIG,
                start_sel=HIGHLIGHT_START,
                stop_sel=HIGHLIGHT_STOP,
                highlight_all=True,
            ),
            snippet_marked=SearchHeadline(
                "body",
                parsed.all_words,
                config=SEARCH_CONFIG,
                start_sel=HIGHLIGHT_START,
                stop_sel=HIGHLIGHT_STOP,
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .defer("body", "workaround", "search_vector")
    )


def suggest_versions(user, parsed: ParsedQuery, *, limit: int = 5) -> list[ArticleVersion]:
    """Up to ``limit`` live articles matching any word (all words first): one query."""
    fields = ("pk", "article_id", "title", "summary", "is_known_error")
    return _best_matches(permissions.live_versions(user), parsed, limit=limit, fields=fields)


def known_error_versions(user, text: str, *, limit: int = 3) -> list[ArticleVersion]:
    """Known errors matching ``text`` (a ticket's subject), best first: one query, none if no words."""
    parsed = parse(text, prefix=False)
    if parsed is None:
        return []
    versions = permissions.live_versions(user).filter(is_known_error=True)
    return _best_matches(versions, parsed, limit=limit, fields=("pk", "article_id", "title", "summary", "workaround"))


def highlight(marked: str | None) -> SafeString:
    """HTML of a ``ts_headline`` result: the text escaped, each marked word in ``<mark>``.

    Markers that do not pair up are dropped, so the output is always well-formed.
    """
    out: list[str] = []
    inside = False
    for part in re.split(f"([{HIGHLIGHT_START}{HIGHLIGHT_STOP}])", marked or ""):
        if part == HIGHLIGHT_START:
            if not inside:
                out.append("<mark>")
                inside = True
        elif part == HIGHLIGHT_STOP:
            if inside:
                out.append("</mark>")
                inside = False
        else:
            out.append(escape(part))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text was escaped above
