"""PostgreSQL full-text search over the live article versions.

* The vectors are stored and weighted (title A, summary and tags B, body and workaround C;
  see migration 0002) and GIN-indexed for live rows; every query uses ``SEARCH_CONFIG``.
* People's words are never parsed as tsquery syntax: they are split into words of letters
  and digits, each quoted as one tsquery operand (which cannot fail), and only the last
  word, if it is plain ASCII letters and digits of at least ``MIN_PREFIX`` characters,
  becomes a prefix match (``word:*``) so results follow someone typing. (The prefix is
  stemmed like any word, so "printi" finds nothing until "print" or "printing" is typed: a
  known limit of prefix search on stemmed vectors.)
* The search page wants every word (AND). Suggestions and known-error matching weigh the
  words by how rare they are among the live articles (``SearchTerm`` holds each lexeme's
  document frequency; the weight is BM25's inverse document frequency): an article is
  offered when the words it holds carry at least ``ENOUGH_WEIGHT`` of the query's weight.
  So a common word ("keeps", "issue", "working") carries little, and an article sharing
  only such a word with the query is not offered; a word no live article holds (a typo, a
  name) is left out of the sum rather than making every article fall short. The rule is
  written as one tsquery (any minimal set of words heavy enough, all of them present), so
  the GIN index finds exactly the articles offered. Those holding every weighted word come
  first, then by the weight they hold, then by rank.
* Results of the search page and the suggestions are remembered for ``KB_SEARCH_CACHE_SECONDS``
  per kind of reader (public-only or staff: what ``permissions.live_versions`` depends on)
  and query, under a generation that publishing and archiving renew, so a change of the live
  articles shows at once. Redis down means misses, never an error (the cache backend's rule).
* Snippets quote the version's ``body_text`` (the rendered body as plain text), never the
  Markdown source.
* Highlighting comes from ``ts_headline`` with private-use sentinel characters as markers.
  The text around them is HTML-escaped and only the markers become ``<mark>`` tags, so
  whatever an article or a query holds, the only markup in a snippet is ours.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from itertools import combinations
from operator import add
from typing import TypedDict, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import BooleanField, Case, F, FloatField, QuerySet, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django_stubs_ext import WithAnnotations

from helpdesk.core.models import User

from . import permissions
from .models import SEARCH_CONFIG, ArticleVersion, SearchTerm

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
MIN_PREFIX = 3
MIN_QUERY_LENGTH = 3
# Share of the query's weight an article must hold to be suggested (measured on the 30 typed
# requests of tests/knowledgebase/test_suggestion_precision.py).
ENOUGH_WEIGHT = 0.6
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"
SENTINELS = (HIGHLIGHT_START, HIGHLIGHT_STOP)
_WORD = re.compile(r"[^\W_]+")
_PREFIXABLE = re.compile(r"[a-z0-9]+")


GENERATION_KEY = "kb-search-generation"
T = TypeVar("T")


def remembered(user: User | AnonymousUser, kind: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``, remembered for ``KB_SEARCH_CACHE_SECONDS`` per kind of reader and ``key``.

    Invariant: a result is reused only for readers who see the same live articles and only
    until the live articles change (``forget_results``). Side effect: one or two cache reads,
    a cache write on a miss; with the setting at 0 it only calls ``compute``.
    """
    seconds = settings.KB_SEARCH_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    reader = "staff" if permissions.can_read_internal(user) else "public"
    generation = cache.get(GENERATION_KEY) or "0"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"kb-search:{generation}:{kind}:{reader}:{digest}"
    found = cache.get(cache_key)
    if found is None:
        found = compute()
        cache.set(cache_key, found, seconds)
    return found


def forget_results() -> None:
    """Start a new generation of remembered results: the live articles are changing.

    Renewed at once and again when the caller's transaction commits, so a search run between
    the two with the old articles cannot be remembered as the new generation's result.
    """

    def renew() -> None:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, None)

    renew()
    transaction.on_commit(renew)


def strip_sentinels(text: str) -> str:
    """Remove the highlight markers from stored text so only ``ts_headline`` can produce them."""
    return (text or "").replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, "")


def terms_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased, at most ``MAX_TERMS`` of at most ``MAX_TERM_LENGTH`` characters."""
    return [word[:MAX_TERM_LENGTH] for word in _WORD.findall((text or "").lower())][:MAX_TERMS]


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    prefix_index: int | None  # which term is a prefix match, if any
    all_words: SearchQuery  # every word (the last one as a prefix)

    @property
    def text(self) -> str:
        return " ".join(self.terms)


def _prefixable(term: str) -> bool:
    return len(term) >= MIN_PREFIX and _PREFIXABLE.fullmatch(term) is not None


def parse(text: str, *, prefix: bool = True) -> ParsedQuery | None:
    """The queries for ``text``, or None when it holds too little to search for."""
    terms = terms_of(text)
    if not terms or sum(len(t) for t in terms) < MIN_QUERY_LENGTH:
        return None
    last = len(terms) - 1
    prefix_index = last if prefix and _prefixable(terms[last]) else None
    # Each word quoted: a word is letters and digits only (terms_of), so it holds no quote or
    # backslash and nothing in it is read as an operator; to_tsquery normalises a quoted word
    # exactly as plainto_tsquery would (a stop word drops out). One node, quick to compile.
    words = [f"'{term}':*" if i == prefix_index else f"'{term}'" for i, term in enumerate(terms)]
    return ParsedQuery(
        terms=tuple(terms),
        prefix_index=prefix_index,
        all_words=SearchQuery(" & ".join(words), config=SEARCH_CONFIG, search_type="raw"),
    )


@dataclass(frozen=True)
class WeighedTerm:
    """One word of a query as PostgreSQL normalised it, with its weight."""

    lexemes: tuple[str, ...]  # what to_tsvector made of the word (several for "wi-fi", none for "the")
    prefix: bool
    weight: float  # BM25's inverse document frequency; 0 when no live article holds the word

    @property
    def tsquery(self) -> str:
        """The word in tsquery syntax: its lexemes quoted (nothing in them is read as an operator)."""
        quoted = ["'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in self.lexemes]
        return f"{quoted[0]}:*" if self.prefix and len(quoted) == 1 else " & ".join(quoted)


def weigh_terms(parsed: ParsedQuery) -> list[WeighedTerm]:
    """Each term of ``parsed`` with its lexemes and weight: one statement, two index probes per term.

    The weight is BM25's inverse document frequency over the live versions (``SearchTerm``):
    a word in nearly every article weighs close to nothing, a word in one article of many a
    lot. A word that became several lexemes counts as its rarest; the prefix term as the sum
    over the lexemes it starts.
    """
    table = SearchTerm._meta.db_table
    sql = f"""
        SELECT t.i::int, array_agg(x.lexeme ORDER BY x.lexeme), coalesce(min(
            CASE WHEN t.i = %(prefix)s
                 THEN (SELECT sum(s.documents) FROM {table} s
                       WHERE s.lexeme ~>=~ x.lexeme AND s.lexeme ~<~ (x.lexeme || '~'))
                 ELSE (SELECT s.documents FROM {table} s WHERE s.lexeme = x.lexeme)
            END), 0)::int
        FROM unnest(%(terms)s::text[]) WITH ORDINALITY AS t(term, i)
        CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, t.term))) AS x(lexeme)
        GROUP BY t.i
        UNION ALL
        SELECT 0, NULL, documents FROM {table} WHERE lexeme = %(all)s
    """  # noqa: S608 - the table name is our model's; every value is a parameter
    # The prefix lexemes are [a-z0-9] only (see _PREFIXABLE), so '~' sorts after all of them.
    prefix = -1 if parsed.prefix_index is None else parsed.prefix_index + 1
    params: dict[str, list[str] | int | str] = {
        "terms": list(parsed.terms),
        "prefix": prefix,
        "config": SEARCH_CONFIG,
        "all": SearchTerm.ALL_DOCUMENTS,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = {i: (lexemes, documents) for i, lexemes, documents in cursor.fetchall()}
    total = rows.pop(0, (None, 0))[1]
    terms = []
    for i in range(len(parsed.terms)):
        lexemes, documents = rows.get(i + 1, ((), 0))
        weight = math.log(1 + (total - documents + 0.5) / (documents + 0.5)) if documents > 0 else 0.0
        terms.append(WeighedTerm(tuple(lexemes), prefix=i == parsed.prefix_index, weight=weight))
    return terms


def _lexeme_query(tsquery: str) -> SearchQuery:
    # The lexemes are PostgreSQL's own (weigh_terms), so the 'simple' configuration leaves them
    # as they are; one node for the whole query keeps the statement quick to compile.
    return SearchQuery(tsquery, config="simple", search_type="raw")


def _enough_words(terms: list[WeighedTerm]) -> str | None:
    """A tsquery true exactly when a version holds words carrying ``ENOUGH_WEIGHT`` of the query's weight.

    The OR of the minimal heavy-enough sets of words (each an AND); at most 8 words, so at most
    70 sets. None when no word weighs anything (nothing to match).
    """
    weighted = [i for i, term in enumerate(terms) if term.weight > 0]
    if not weighted:
        return None
    need = ENOUGH_WEIGHT * sum(terms[i].weight for i in weighted) - 1e-9
    minimal: list[tuple[int, ...]] = []
    for size in range(1, len(weighted) + 1):
        for chosen in combinations(weighted, size):
            if sum(terms[i].weight for i in chosen) >= need and not any(set(m) <= set(chosen) for m in minimal):
                minimal.append(chosen)
    return " | ".join("(" + " & ".join(f"({terms[i].tsquery})" for i in chosen) + ")" for chosen in minimal)


class _Rank(TypedDict):
    rank: float


class _BestMatch(_Rank):
    every_word: bool
    weight: float


class _Headlines(_Rank):
    title_marked: str
    snippet_marked: str


def _ranked(
    versions: QuerySet[ArticleVersion], matcher: SearchQuery
) -> QuerySet[WithAnnotations[ArticleVersion, _Rank]]:
    return (
        versions.filter(search_vector=matcher)
        .annotate(rank=SearchRank(F("search_vector"), matcher))
        .order_by("-rank", "-article__helpful_count", "-published_at", "-pk")
    )


def _best_matches(
    versions: QuerySet[ArticleVersion], parsed: ParsedQuery, *, limit: int, fields: tuple[str, ...]
) -> list[ArticleVersion]:
    """The ``limit`` best versions holding enough of the query's weight, those with every weighted word first.

    Two statements: the document frequencies, then
    ``(every word, best first LIMIT n) UNION ALL (enough words, heaviest first LIMIT n) LIMIT n``;
    PostgreSQL runs the second branch only when the first has fewer than ``n`` rows.
    """
    terms = weigh_terms(parsed)
    enough_words = _enough_words(terms)
    if enough_words is None:
        return []
    weighted = [term for term in terms if term.weight > 0]
    enough = _lexeme_query(enough_words)
    every_word = _lexeme_query(" & ".join(f"({term.tsquery})" for term in weighted))
    held = reduce(
        add,
        (
            Case(When(search_vector=_lexeme_query(term.tsquery), then=Value(term.weight)), default=Value(0.0))
            for term in weighted
        ),
    )

    def branch(
        rows: QuerySet[ArticleVersion], matcher: SearchQuery, every: bool
    ) -> QuerySet[WithAnnotations[ArticleVersion, _BestMatch]]:
        ranked = _ranked(rows, matcher).annotate(
            every_word=Value(every, output_field=BooleanField()),
            weight=Value(1.0, output_field=FloatField()) if every else held,
        )
        if not every:
            ranked = ranked.order_by("-weight", "-rank", "-article__helpful_count", "-published_at", "-pk")
        return ranked.only(*fields)[:limit]

    first = branch(versions, every_word, True)
    if len(weighted) == 1:
        return list(first)
    rest = branch(versions.exclude(search_vector=every_word), enough, False)
    found: list[WithAnnotations[ArticleVersion, _BestMatch]] = list(first.union(rest, all=True)[:limit])
    # UNION ALL keeps the branches in order in practice; sorting the few rows makes it certain.
    found.sort(key=lambda v: (not v.every_word, -v.weight, -v.rank))
    return list(found)  # as the plain list[ArticleVersion] this function returns


def search_versions(
    user: User | AnonymousUser, parsed: ParsedQuery
) -> QuerySet[WithAnnotations[ArticleVersion, _Headlines]]:
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
                "body_text",
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
        .defer("body", "body_text", "workaround", "search_vector")
    )


def suggest_versions(user: User | AnonymousUser, parsed: ParsedQuery, *, limit: int = 5) -> list[ArticleVersion]:
    """Up to ``limit`` live articles holding enough of the query's weight (every word first).

    Three statements (the weights, then one UNION ALL), or none when remembered (``remembered``).
    """
    fields = ("pk", "article_id", "title", "summary", "is_known_error")
    return remembered(
        user,
        "suggest",
        f"{parsed.terms}|{parsed.prefix_index}|{limit}",
        lambda: _best_matches(permissions.live_versions(user), parsed, limit=limit, fields=fields),
    )


def known_error_versions(user: User | AnonymousUser, text: str, *, limit: int = 3) -> list[ArticleVersion]:
    """Known errors holding enough of ``text``'s weight (a ticket's subject), best first; none if no words."""
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
