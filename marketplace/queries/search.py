"""What a buyer types, made searchable: Urdu normalisation, the synonym table, plurals,
"did you mean" and suggestions.

A query is split into groups (one per word, or per phrase the synonym table knows); a listing
matches when every group matches, and a group matches when any of its alternatives does (every
term of the concept, in Urdu script, Roman Urdu and English, and the plural's singular), or when
the listing is in the concept's category. The synonym table is kept per process and reloaded
when the version key in the cache changes (bumped on every save in the admin).
"""

import difflib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.utils import translation

from marketplace.page_cache import catalogue_changed

logger = logging.getLogger(__name__)

# Arabic-script letters written several ways map to the Urdu form; vowel marks (aerab),
# the tatweel and the zero-width non-joiner are dropped. One table for Python and for SQL, so
# the query and the listing's text are normalised alike.
# (yeh, alef maksura -> farsi yeh; kaf -> keheh; every heh -> heh goal, as typists mix
# them, do-chashmi included;
# yeh barree with hamza -> yeh barree)
_UNIFY = {
    "\u064a": "\u06cc",
    "\u0649": "\u06cc",
    "\u0643": "\u06a9",
    "\u0647": "\u06c1",
    "\u06be": "\u06c1",
    "\u06c2": "\u06c1",
    "\u06d3": "\u06d2",
}
_DROP = [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640", "\u200c", "\u200d"]
_TRANSLATE = str.maketrans({**_UNIFY, **dict.fromkeys(_DROP, None)})
_WORD = re.compile(r"\w+")
MAX_PHRASE_WORDS = 4
SEARCH_CONFIG = "english"  # stems plurals; Urdu words pass through unchanged
SQLITE_NORMALIZE = "mpk_normalize"  # registered on each SQLite connection (apps.py)
VERSION_KEY = "search-synonyms-version"
RECHECK_SECONDS = 30


def normalize(text: str) -> str:
    """Lower-case, Latin accents off, Urdu letter variants unified, aerab removed."""
    text = text.lower().translate(_TRANSLATE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    # Latin accents only: an Arabic-script letter must keep its composed form (آ, ۓ).
    return "".join(
        ch for ch in decomposed if not (unicodedata.combining(ch) and ord(ch) < 0x0600)
    ).translate(_TRANSLATE)


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def normalized_sql(expression, *, vendor: str):
    """`expression` normalised in SQL as normalize() does in Python (Urdu part)."""
    if vendor == "postgresql":
        source = "".join(_UNIFY) + "".join(_DROP)
        target = "".join(_UNIFY.values())  # characters past the end of `target` are dropped
        translated = Func(
            expression, Value(source), Value(target), function="translate", output_field=TextField()
        )
        return Func(translated, function="unaccent", output_field=TextField())
    return Func(expression, function=SQLITE_NORMALIZE, output_field=TextField())


def singulars(word: str) -> list[str]:
    """English plurals typed for singular listings (rugs, vases, boxes, pastries)."""
    if not word.isascii() or len(word) < 4 or not word.endswith("s") or word.endswith("ss"):
        return []
    forms = [word[:-1]]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    elif word.endswith("es"):
        forms.append(word[:-2])
    return forms


# --- The synonym table, cached per process ---------------------------------------------------


@dataclass(frozen=True)
class SynonymTable:
    concepts: list[tuple[tuple[str, ...], tuple[int, ...]]]  # normalised terms, category ids
    by_term: dict[str, list[int]]  # normalised term -> concept indexes
    vocabulary: dict[str, str] = field(default_factory=dict)  # normalised -> as written
    # normalised term -> its place in its concept's list: the spelling staff put first wins
    # a tie ("dupata" is as close to the listed "duppata" as to "dupatta").
    place: dict[str, int] = field(default_factory=dict)


_table: dict[str, tuple[float, object, SynonymTable]] = {}


def _cache_version():
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # the cache fails open; a stale table for 30 s is harmless
        logger.warning("search synonym version unreadable", exc_info=True)
        return None


def synonyms_changed() -> None:
    """Drop this process's table and tell the others (the version key)."""
    _table.clear()
    catalogue_changed()  # search results already shared are out of date
    try:
        cache.set(VERSION_KEY, time.time_ns(), timeout=None)
    except Exception:
        logger.warning("search synonym version not saved", exc_info=True)


def clear_synonym_cache() -> None:
    _table.clear()


def synonym_table() -> SynonymTable:
    cached = _table.get("table")
    now = time.monotonic()
    if cached is not None:
        if cached[0] > now:
            return cached[2]
        version = _cache_version()
        if version == cached[1]:
            _table["table"] = (now + RECHECK_SECONDS, version, cached[2])
            return cached[2]
    else:
        version = _cache_version()
    table = _load_table()
    _table["table"] = (now + RECHECK_SECONDS, version, table)
    return table


def _load_table() -> SynonymTable:
    from marketplace.models import SearchSynonym
    from marketplace.queries.catalog import reference_data

    reference = reference_data()
    concepts = []
    by_term: dict[str, list[int]] = {}
    vocabulary: dict[str, str] = {}
    place: dict[str, int] = {}
    for synonym in SearchSynonym.objects.all():
        category_ids: tuple[int, ...] = ()
        if synonym.category_id is not None:
            children = reference.children.get(synonym.category_id, [])
            category_ids = (synonym.category_id, *(c.pk for c in children))
        terms = []
        for term in synonym.term_list():
            key = " ".join(words(term))
            if not key:
                continue
            place[key] = min(place.get(key, len(terms)), len(terms))
            terms.append(key)
            vocabulary.setdefault(key, term)
            by_term.setdefault(key, []).append(len(concepts))
        concepts.append((tuple(terms), category_ids))
    for category in reference.categories:
        for language in ("en", "ur"):
            with translation.override(language):
                name = str(category.display_name)
            vocabulary.setdefault(" ".join(words(name)), name)
    return SynonymTable(concepts=concepts, by_term=by_term, vocabulary=vocabulary, place=place)


# --- Queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One word or known phrase of a query: any alternative (a phrase) or the category."""

    alternatives: tuple[str, ...]
    category_ids: tuple[int, ...] = ()


def query_groups(text: str) -> list[Group]:
    table = synonym_table()
    tokens = words(text)
    groups: list[Group] = []
    i = 0
    while i < len(tokens):
        for size in range(min(MAX_PHRASE_WORDS, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + size])
            forms = [phrase, *(singulars(phrase) if size == 1 else [])]
            concept_ids = [c for form in forms for c in table.by_term.get(form, [])]
            if concept_ids or size == 1:
                break
        alternatives = dict.fromkeys(forms)
        category_ids: dict[int, None] = {}
        for index in concept_ids:
            terms, ids = table.concepts[index]
            alternatives.update(dict.fromkeys(terms))
            category_ids.update(dict.fromkeys(ids))
        groups.append(Group(tuple(alternatives), tuple(category_ids)))
        i += size
    return groups


def tsquery_text(alternatives: tuple[str, ...]) -> str:
    """A to_tsquery() expression: any alternative; a phrase's words adjacent; prefixes."""

    def lexeme(word: str) -> str:
        return f"'{word}':*" if len(word) >= 3 else f"'{word}'"

    return " | ".join(
        "(" + " <-> ".join(lexeme(w) for w in alt.split()) + ")" for alt in alternatives
    )


def did_you_mean(text: str) -> str | None:
    """The query with each unknown word replaced by the closest known term, if any changed."""
    typed = words(text)
    out = [_closest_known(word) or word for word in typed]
    return " ".join(out) if out != typed else None


def _closest_known(word: str) -> str | None:
    """The known word closest to an unknown `word` (None for a known word, or none close)."""
    table = synonym_table()
    single_words = {w for term in table.vocabulary for w in term.split()}
    if word in single_words or any(form in single_words for form in singulars(word)):
        return None
    close = difflib.get_close_matches(word, single_words, n=5, cutoff=0.75)
    if not close:
        return None
    best = difflib.SequenceMatcher(None, word, close[0]).ratio()
    tied = [c for c in close if difflib.SequenceMatcher(None, word, c).ratio() == best]
    return min(tied, key=lambda c: (table.place.get(c, len(table.place)), c))


def suggestions(text: str, *, limit: int = 6) -> list[str]:
    """Known terms starting with what was typed, then close ones (as written in the table)."""
    typed = " ".join(words(text))
    if len(typed) < 2:
        return []
    table = synonym_table()
    vocabulary = table.vocabulary
    found = [key for key in vocabulary if key.startswith(typed)]
    found.sort(key=lambda key: (len(key), key))
    if len(found) < limit:
        for key in difflib.get_close_matches(typed, vocabulary, n=limit, cutoff=0.7):
            if key not in found:
                found.append(key)
    # One spelling per concept: khusa, khussay and khussey would say the same thing.
    seen: set[int] = set()
    distinct = []
    for key in found:
        concepts = set(table.by_term.get(key, []))
        if concepts and concepts <= seen:
            continue
        seen |= concepts
        distinct.append(key)
    found = distinct
    return [vocabulary[key] for key in found[:limit]]


def _group_q(group: Group, *, vendor: str) -> Q:
    if vendor == "postgresql":
        matched = Q(
            search_vector=SearchQuery(
                tsquery_text(group.alternatives), search_type="raw", config=SEARCH_CONFIG
            )
        )
    else:
        matched = Q()
        for alternative in group.alternatives:
            matched |= Q(search_text__contains=alternative)
    if group.category_ids:
        matched |= Q(category_id__in=group.category_ids)
    return matched


def filter_text(queryset: QuerySet, text: str, *, typos: bool = False) -> QuerySet:
    """Listings matching every group of `text`; with `typos` (PostgreSQL), each typed word
    also matches the title words close to it and the closest known term (typo_groups).

    Typos are a fallback (catalog.TYPOS_BELOW): a search finding enough is not widened.
    """
    groups = typo_groups(text) if typos else query_groups(text)
    if not groups:
        return queryset
    vendor = connection.vendor
    matched = Q()
    for group in groups:
        matched &= _group_q(group, vendor=vendor)
    if vendor == "postgresql":
        return queryset.filter(matched)
    # SQLite (`make run`): substring matching on the normalised text; no typo tolerance
    # beyond the spellings the synonym table lists.
    text_sql = Concat(F("title"), Value(" "), F("description"), output_field=TextField())
    return queryset.alias(search_text=normalized_sql(text_sql, vendor=vendor)).filter(matched)


# --- Typos: the words of titles (PostgreSQL) --------------------------------------------------
# Comparing trigrams with every title took 100-300 ms at 100,000 products; the distinct words
# of the titles are a few thousand, so a typed word is corrected against them first and the
# corrections are searched like any word (the full-text index).
TYPO_WORDS = 5  # the closest title words tried for one typed word
MIN_WORD = 3  # shorter words are not corrected (too few trigrams to tell)
MAX_WORD_LENGTH = 120  # SearchWord.word


def title_words(titles) -> set[str]:
    """The normalised words of `titles` worth correcting a typo to."""
    found = set()
    for title in titles:
        found.update(
            w for w in words(title) if MIN_WORD <= len(w) <= MAX_WORD_LENGTH and not w.isdigit()
        )
    return found


def add_title_words(titles) -> None:
    """Remember the words of these titles (PostgreSQL; nothing to do elsewhere)."""
    if connection.vendor != "postgresql":
        return
    from marketplace.models import SearchWord

    found = sorted(title_words(titles))
    if found:
        SearchWord.objects.bulk_create(
            [SearchWord(word=w) for w in found], ignore_conflicts=True, batch_size=1000
        )


def close_title_words(typed: list[str]) -> dict[str, list[str]]:
    """For each typed word, the title words close to it (trigram word similarity, as pg_trgm's
    `%>` with its threshold), closest first: one query for all of them."""
    from marketplace.models import SearchWord

    typed = [w for w in dict.fromkeys(typed) if len(w) >= MIN_WORD]
    if not typed:
        return {}
    table = connection.ops.quote_name(SearchWord._meta.db_table)
    sql = (  # the model's table name only
        "SELECT t.typed, w.word FROM unnest(%s::text[]) AS t(typed) CROSS JOIN LATERAL ("  # noqa: S608
        f"SELECT word FROM {table} WHERE word %%> t.typed "
        "ORDER BY word_similarity(t.typed, word) DESC, word LIMIT %s) AS w"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [typed, TYPO_WORDS])
        close: dict[str, list[str]] = {}
        for word, title_word in cursor.fetchall():
            close.setdefault(word, []).append(title_word)
    return close


def typo_groups(text: str) -> list[Group]:
    """query_groups(text) with the title words close to each single word among its
    alternatives, as comparing trigrams with the titles found them. A listing still matches
    every group; in a query of several words, a word no title word is close to also takes
    the closest known term ("brass lmap": lamp), as the whole query's similarity to a title
    let the other words find it."""
    groups = query_groups(text)
    close = close_title_words([g.alternatives[0] for g in groups if " " not in g.alternatives[0]])
    widened = []
    for group in groups:
        typed = group.alternatives[0]
        extra = close.get(typed, [])
        if not extra and len(groups) > 1 and " " not in typed:
            extra = [known] if (known := _closest_known(typed)) else []
        alternatives = tuple(dict.fromkeys((*group.alternatives, *extra)))
        widened.append(Group(alternatives, group.category_ids))
    return widened


def forgives_typos() -> bool:
    return connection.vendor == "postgresql"


def order_by_rank(queryset: QuerySet, text: str) -> QuerySet | None:
    """Best match first on PostgreSQL (full-text rank, then title similarity); None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    groups = query_groups(text)
    if not groups:
        return None
    query = SearchQuery(
        " & ".join(f"({tsquery_text(g.alternatives)})" for g in groups),
        search_type="raw",
        config=SEARCH_CONFIG,
    )
    # Any alternative counts towards the rank (a listing matching by category has none).
    loose = SearchQuery(
        " | ".join(f"({tsquery_text(g.alternatives)})" for g in groups),
        search_type="raw",
        config=SEARCH_CONFIG,
    )
    return queryset.annotate(
        rank=SearchRank(F("search_vector"), query) + SearchRank(F("search_vector"), loose),
        similarity=TrigramWordSimilarity(" ".join(words(text)), "title"),
    ).order_by("-rank", "-similarity", "-created_at", "-pk")
