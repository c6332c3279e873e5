"""Cross-journey search: one ranked, paginated search over maps, steps, pain points,
lane items of every kind, research sources, quotes and CX projects, limited to what the
user may see.

The rows come from the search index (``search_index``: one table kept by database
triggers, so bulk imports are found at once; its docstring says why), searched with the
database's own full text: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL.

* **Permissions** come from the policy's querysets: a hit belongs to a map the user may
  see (``permissions.visible_maps``; a quote's map is its source's) or is a project they
  may see (``permissions.visible_projects``). Nothing else is ever returned or counted.
* **The query is ours, not the database's**: the text is split into words (letters and
  digits; NUL and control characters dropped; at most ``MAX_WORDS``), each word is
  quoted for FTS5's MATCH or to_tsquery and matched as a prefix ("gla" finds "glare"),
  and every word must match. Operators, quotes, ``*``, ``NEAR`` are plain text, so no
  input can make a query the database refuses.
* **Ranking**: hits whose title holds every word come first, then the database's rank
  (FTS5's bm25 with the title weighted ten times the body; PostgreSQL's ts_rank with the
  title as weight A and the body as D), then the most recently changed.
* **Highlighting** is done here, on the hit's text, for both databases alike: the text is
  escaped piece by piece and only the matched words are wrapped in ``<mark>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from maps.models import CXProject, Evidence, JourneyMap
from search_index.index import ENTRY_TABLE, FTS_TABLE, PG_CONFIG
from search_index.models import SearchEntry

from . import permissions

#: the longest search text accepted (a sentence; 10 KB of text is refused with a message)
MAX_QUERY_LENGTH = 200
#: words searched for; more are ignored (every word must match: 10 is already narrow)
MAX_WORDS = 10
#: a word longer than this is cut (no word of any language is this long)
MAX_WORD_LENGTH = 60
PAGE_SIZE = 20
SNIPPET_LENGTH = 220

KINDS = SearchEntry.Kind
#: kinds whose display name is the organisation's vocabulary term of the same key
_VOCABULARY_KINDS = {
    KINDS.MAP: "map",
    KINDS.STEP: "step",
    KINDS.PAIN_POINT: "pain_point",
    KINDS.INSIGHT: "insight",
    KINDS.OPPORTUNITY: "opportunity",
    KINDS.RESEARCH: "research",
    KINDS.IDEA: "idea",
    KINDS.PROJECT: "project",
}
#: kinds that carry an evidence level (steps, pain points, lane items)
EVIDENCE_KINDS = frozenset(
    {KINDS.STEP, KINDS.PAIN_POINT, KINDS.INSIGHT, KINDS.OPPORTUNITY, KINDS.RESEARCH, KINDS.IDEA}
)

_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or a digit, in any script
_TOKEN = re.compile(r"[^\W_]+")


def kind_labels(vocab: Mapping[str, str] | None = None) -> dict[str, str]:
    """Display names of the kinds, in the organisation's vocabulary where it has one."""
    vocab = vocab or {}
    return {
        kind: vocab.get(_VOCABULARY_KINDS.get(kind, ""), label) for kind, label in KINDS.choices
    }


# --- the query -------------------------------------------------------------------


def query_words(text: str, limit: int | None = MAX_WORDS) -> list[str]:
    """The words of a search text: split on white space, control characters (NUL …)
    dropped, words without a letter or digit dropped, duplicates and words beyond
    ``limit`` ignored."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text[: MAX_QUERY_LENGTH * 4])
    words: list[str] = []
    for word in cleaned.split():
        word = word[:MAX_WORD_LENGTH]
        if _WORD_CHAR.search(word) and word.casefold() not in {w.casefold() for w in words}:
            words.append(word)
    return words[:limit]


def fts5_query(words: Iterable[str], *, title_only: bool = False) -> str:
    """FTS5 MATCH syntax: each word a quoted phrase with a prefix star, all required.
    A double quote inside a phrase is written twice, so nothing in a word is syntax."""
    expression = " AND ".join('"{}"*'.format(w.replace('"', '""')) for w in words)
    return f"title : ({expression})" if title_only else expression


def tsquery(words: Iterable[str], *, title_only: bool = False) -> str:
    """to_tsquery syntax: each word a quoted lexeme matched as a prefix (``:*``), all
    required (``&``); quotes and backslashes inside a word become spaces (the parser
    splits the word there anyway). ``A`` limits the match to titles. Words are lowercased
    here: a database with the C locale lowercases only ASCII letters itself."""
    weight = "A" if title_only else ""
    return " & ".join("'{}':*{}".format(re.sub(r"['\\]", " ", w.lower()), weight) for w in words)


def _fold(text: str) -> str:
    """Case and accents folded, as FTS5's ``remove_diacritics`` does: "Café" → "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Terms:
    """What a hit's text is highlighted with: the last token of each word is a prefix
    (as the database matched it), the tokens before it whole words."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, words: Iterable[str]) -> Terms:
        exact: set[str] = set()
        prefixes: list[str] = []
        for word in words:
            tokens = [_fold(t) for t in _TOKEN.findall(word)]
            if tokens:
                exact.update(tokens[:-1])
                prefixes.append(tokens[-1])
        return cls(frozenset(exact), tuple(prefixes))

    def matches(self, token: str) -> bool:
        folded = _fold(token)
        return folded in self.exact or folded.startswith(self.prefixes)


def highlight(text: str, terms: Terms) -> SafeString:
    """``text`` escaped, with each matched word wrapped in ``<mark>``."""
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        if terms.matches(match.group()):
            parts.append(escape(text[last : match.start()]))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # every piece above is escaped


def snippet(text: str, terms: Terms, length: int = SNIPPET_LENGTH) -> SafeString:
    """A window of ``text`` around its first matched word, highlighted; its start when
    nothing matches (the hit matched in its title)."""
    text = " ".join(text.split())
    if not text:
        return mark_safe("")
    first = next((m.start() for m in _TOKEN.finditer(text) if terms.matches(m.group())), 0)
    start = max(0, first - length // 3)
    if start:
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = start + length
    if end < len(text):
        space = text.rfind(" ", first, end)
        end = space if space > first else end
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return mark_safe(f"{lead}{highlight(text[start:end], terms)}{tail}")


# --- the search --------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    kinds: frozenset[str] = frozenset()
    under: JourneyMap | None = None  # a map the user may see: it and its sub-maps
    owner_id: int | None = None  # the owner of the hit's map (a project's own owner)
    evidence: frozenset[str] = frozenset()


@dataclass
class Hit:
    entry: SearchEntry
    kind_label: str
    title_html: SafeString
    snippet_html: SafeString
    url: str
    map: JourneyMap | None = None
    project: CXProject | None = None
    owner: object | None = None  # a User
    source_title: str = ""
    evidence_label: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def title(self) -> str:
        """Plain text: the title, or a quote's start."""
        return self.entry.title or " ".join(self.entry.body.split())[:200]


def _matching(words: list[str]) -> QuerySet[SearchEntry]:
    if connection.vendor == "postgresql":
        return SearchEntry.objects.alias(_vector=_VECTOR).filter(
            _vector=SearchQuery(tsquery(words), search_type="raw", config=PG_CONFIG)
        )
    # A join, not ``id IN (…)``: bm25() needs the FTS5 row of the match (a correlated
    # subquery per hit re-ran the full-text query each time: 2 minutes at 400,000 rows).
    # QuerySet.extra is the one way to join a table that is no model.
    return SearchEntry.objects.extra(
        tables=[FTS_TABLE],
        where=[f"{FTS_TABLE}.rowid = {ENTRY_TABLE}.id", f"{FTS_TABLE} MATCH %s"],
        params=[fts5_query(words)],
    )


# the generated column exists only in the database (search_index.index), not on the model
_VECTOR = RawSQL(f'"{ENTRY_TABLE}"."search_vector"', [], output_field=SearchVectorField())


def _ranked(qs: QuerySet[SearchEntry], words: list[str]) -> QuerySet[SearchEntry]:
    if connection.vendor == "postgresql":
        everywhere = SearchQuery(tsquery(words), search_type="raw", config=PG_CONFIG)
        in_title = SearchQuery(tsquery(words, title_only=True), search_type="raw", config=PG_CONFIG)
        return qs.annotate(  # ``_vector`` is the alias _matching made
            title_hit=ExpressionWrapper(Q(_vector=in_title), output_field=BooleanField()),
            rank=SearchRank(_VECTOR, everywhere),
        ).order_by("-title_hit", "-rank", "-updated_at", "-pk")
    # bm25 over the joined FTS5 row: lower is better; the title weighs ten times the body
    title_hit = RawSQL(
        f"{ENTRY_TABLE}.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)",
        [fts5_query(words, title_only=True)],
        output_field=BooleanField(),
    )
    return (
        qs.annotate(title_hit=title_hit)
        .extra(select={"rank": f"bm25({FTS_TABLE}, 10.0, 1.0)"})
        .order_by("-title_hit", "rank", "-updated_at", "-pk")
    )


def _matched_projects(words: list[str]):
    """The ids of the projects the words match, as a subquery of its own. On SQLite not
    ``_matching(words).values(…)``: inside a subquery Django aliases the entry table,
    and the join ``extra`` wrote by table name would then point at the outer query's
    row — a correlated scan of the whole index per hit (minutes at 400,000 rows)."""
    if connection.vendor == "postgresql":
        return _matching(words).filter(kind=KINDS.PROJECT).values("project_id")
    return RawSQL(
        f"SELECT e.project_id FROM {ENTRY_TABLE} e JOIN {FTS_TABLE} "
        f"ON {FTS_TABLE}.rowid = e.id WHERE {FTS_TABLE} MATCH %s AND e.kind = %s",
        [fts5_query(words), KINDS.PROJECT],
    )


def _visible(user, qs: QuerySet[SearchEntry], words: list[str]) -> QuerySet[SearchEntry]:
    # the policy decides over the matched projects only: deciding over every project
    # first took seconds at 5,000 projects
    matched = CXProject.objects.filter(pk__in=_matched_projects(words))
    return qs.filter(
        Q(map__in=permissions.visible_maps(user).values("pk"))
        | Q(project__in=permissions.visible_projects(user, matched).values("pk"))
    )


def _filtered(qs: QuerySet[SearchEntry], filters: Filters) -> QuerySet[SearchEntry]:
    if filters.under is not None:
        root = filters.under
        subtree = JourneyMap.objects.filter(
            tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght
        )
        qs = qs.filter(
            Q(map__in=subtree.values("pk"))
            | Q(project__in=CXProject.objects.filter(maps__in=subtree).values("pk"))
        )
    if filters.owner_id is not None:
        qs = qs.filter(
            Q(map__in=JourneyMap.objects.filter(owner_id=filters.owner_id).values("pk"))
            | Q(project__in=CXProject.objects.filter(owner_id=filters.owner_id).values("pk"))
        )
    if filters.evidence:
        qs = qs.filter(evidence__in=filters.evidence)
    return qs


class SearchResults:
    """The hits of one search, lazily: ``counts`` per kind (one query, ignoring the kind
    filter, for the facets), ``count()`` and slices (one query per page). Django's
    Paginator and DRF's pagination take it as they take a queryset."""

    def __init__(self, *, user, words: list[str], filters: Filters, vocab=None):
        self.user = user
        self.words = words[:MAX_WORDS]
        #: words of the text beyond ``MAX_WORDS``, not searched for (the page says so)
        self.ignored_words = words[MAX_WORDS:]
        self.filters = filters
        self.terms = Terms.of(words)
        self.labels = kind_labels(vocab)

    def _base(self) -> QuerySet[SearchEntry]:
        if not self.words:
            return SearchEntry.objects.none()
        return _filtered(_visible(self.user, _matching(self.words), self.words), self.filters)

    @cached_property
    def counts(self) -> dict[str, int]:
        """Hits per kind, in the kinds' order, for every kind with a hit."""
        grouped = self._base().order_by().values("kind").annotate(n=Count("id"))
        rows = {row["kind"]: row["n"] for row in grouped}
        return {kind: rows[kind] for kind in KINDS.values if rows.get(kind)}

    def count(self) -> int:
        kinds = self.filters.kinds
        return sum(n for kind, n in self.counts.items() if not kinds or kind in kinds)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Hit]:
        if not isinstance(index, slice):
            raise TypeError("Search results are read a page (a slice) at a time.")
        if index.start == index.stop or not self.words:
            return []
        qs = self._base()
        if self.filters.kinds:
            qs = qs.filter(kind__in=self.filters.kinds)
        entries = _ranked(qs, self.words).select_related("map__owner", "project__owner", "source")
        return [self._hit(entry) for entry in entries[index]]

    def _hit(self, entry: SearchEntry) -> Hit:
        journey_map, project = entry.map, entry.project
        if entry.kind == KINDS.QUOTE:
            title_html = snippet(entry.body, self.terms)
            snippet_html = mark_safe("")
        else:
            title_html = highlight(entry.title, self.terms)
            snippet_html = snippet(entry.body, self.terms)
        return Hit(
            entry=entry,
            kind_label=self.labels.get(entry.kind, entry.kind),
            title_html=title_html,
            snippet_html=snippet_html,
            url=hit_url(entry),
            map=journey_map,
            project=project,
            owner=project.owner if project else journey_map.owner if journey_map else None,
            source_title=entry.source.title if entry.source and entry.kind == KINDS.QUOTE else "",
            evidence_label=Evidence(entry.evidence).label if entry.evidence else "",
        )


def hit_url(entry: SearchEntry) -> str:
    """Where a hit lives: the project page, the research source page (a quote: at the
    quote), or the map page at the step's column."""
    if entry.kind == KINDS.PROJECT:
        return reverse("project_detail", args=[entry.object_id])
    journey_map = entry.map
    if journey_map is None:
        return ""
    if entry.source_id is not None:
        url = reverse("maps:research-source", args=[journey_map.slug, entry.source_id])
        return f"{url}#quote-{entry.object_id}" if entry.kind == KINDS.QUOTE else url
    url = journey_map.get_absolute_url()
    return f"{url}#step-{entry.step_id}" if entry.step_id else url


def search(
    *,
    user,
    text: str,
    kinds: Iterable[str] = (),
    under: JourneyMap | None = None,
    owner_id: int | None = None,
    evidence: Iterable[str] = (),
    vocab: Mapping[str, str] | None = None,
) -> SearchResults:
    """The hits of ``text`` the user may see, filtered; ``under`` must be a map the
    caller loaded through the policy (the form does)."""
    filters = Filters(
        kinds=frozenset(kinds),
        under=under,
        owner_id=owner_id,
        evidence=frozenset(evidence),
    )
    words = query_words(text, limit=None)
    return SearchResults(user=user, words=words, filters=filters, vocab=vocab)


def count_content_matches(*, user, text: str) -> int:
    """Hits inside maps (everything but the maps themselves) for ``text``: the map
    repository's "N matches inside maps" link. One query."""
    results = search(user=user, text=text)
    return sum(n for kind, n in results.counts.items() if kind != KINDS.MAP)
