"""Read a GroupLens MovieLens folder, whichever of its three layouts it uses."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from dynrec_cli.data.readers.frames import events_frame, ids, items_frame, ratings, unique_ids
from dynrec_cli.data.readers.tables import read_table
from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.data.types import ITEM, RawData
from dynrec_cli.errors import DataError

log = logging.getLogger(__name__)
LAYOUTS = ("ratings.csv + movies.csv [+ tags.csv] (ml-latest, ml-20m, ml-25m), "
           "ratings.dat + movies.dat [+ tags.dat] (ml-1m, ml-10m), u.data + u.item (ml-100k)")
EVENT_NAMES = ["user", "item", "rating", "time"]
# Each file's columns in the ml-latest CSV header -> role; in this order in a .dat line.
LAYOUT_COLUMNS = {
    "ratings": {"userId": "user", "movieId": "item", "rating": "rating", "timestamp": "time"},
    "movies": {"movieId": "item", "title": "title", "genres": "genres"},
    "tags": {"userId": "user", "movieId": "item", "tag": "tag", "timestamp": "time"},
}
# The 19 genre flags that end each line of ml-100k's u.item, in file order.
GENRES_100K = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
               "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
               "Romance", "Sci-Fi", "Thriller", "War", "Western"]
ITEM_NAMES_100K = ["item", "title", "release date", "video release date", "IMDb URL"] + GENRES_100K
NO_GENRES = "(no genres listed)"
# How the genres field is stored ("Action, Horror": it reads well in item text); recorded in
# RawData.category_separators so rank.filter splits genres the same way.
GENRE_SEPARATOR = ", "
# "Heat (1995)" -> "Heat", "1995"; also "(2006-2007)" ranges and trailing spaces.
TITLE_YEAR = r"^(?P<title>.*?)\s*\((?P<year>\d{4})[^()]*\)\s*$"


def read_movielens(path: Path, encoding: str | None = None) -> RawData:
    """Read a MovieLens folder: ratings, titles, genres, years and (where shipped) tags.

    Args:
        path: the unzipped folder, e.g. `ml-latest-small/`.
        encoding: overrides the layout's encoding (UTF-8 for CSV, latin-1 for u.item and .dat).

    Returns:
        Events with ratings and unix times; items with text fields title, genres, year and,
        with a tags file, tags (each movie's distinct tags, most frequent first).

    Raises:
        DataError: no known layout in the folder, or bad content.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError(path, "is not a folder", fix="set data.path= to the MovieLens folder")
    if (path / "ratings.csv").exists():
        return _read_layout(path, ".csv", ",", True, encoding)
    if (path / "ratings.dat").exists():
        return _read_layout(path, ".dat", "::", False, encoding or "latin-1")
    if (path / "u.data").exists():
        return _read_100k(path, encoding)
    raise DataError(path, f"no MovieLens files found; looked for {LAYOUTS}",
                    fix="set data.path= to the unzipped folder, or use data.format=csv")


def _read_layout(path: Path, ext: str, sep: str, header: bool, encoding: str | None) -> RawData:
    """ratings/movies/tags with the same layout: .csv (header, columns by name) or .dat (`::`, by position)."""
    events_path, items_path, tags_path = (path / f"{n}{ext}" for n in ("ratings", "movies", "tags"))
    df, cols = _read_file(events_path, "ratings", sep, header, encoding)
    events = _events(df, events_path, cols)
    if not items_path.exists():
        return RawData(events, None, events_path, None, [events_path])
    movies, names = _read_file(items_path, "movies", sep, header, encoding)
    title_year = _split_year(movies[names["title"]])
    text = title_year.assign(genres=_genres(movies[names["genres"]]))[["title", "genres", "year"]]
    sources, tag_text = [events_path, items_path], None
    if tags_path.exists():
        tags, tag_cols = _read_file(tags_path, "tags", sep, header, encoding)
        sources, tag_text = sources + [tags_path], _tag_text(tags, tags_path, tag_cols)
    return _raw(events, movies[names["item"]], text, tag_text, sources)


def _read_file(path: Path, kind: str, sep: str, header: bool, encoding: str | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """One file of a ratings/movies/tags layout, and role -> its column name in the table.

    A header (ml-latest CSV) is read by name, so reordered columns keep their meaning; a .dat
    file has none and is read by position.

    Raises:
        DataError: a header without one of the layout's columns, or a .dat line with the wrong
            number of fields.
    """
    roles = LAYOUT_COLUMNS[kind]
    if not header:
        df = read_table(path, sep=sep, header=False, names=list(roles.values()), encoding=encoding,
                        sep_key=None)
        return _without_header_line(df, path), {role: role for role in roles.values()}
    df = read_table(path, sep=sep, encoding=encoding, sep_key=None)
    missing = [name for name in roles if name not in df.columns]
    if missing:
        raise DataError(path, f"no column {', '.join(missing)}; a MovieLens {path.name} has the columns "
                        f"{', '.join(roles)}, this one: {', '.join(map(str, df.columns))}", row=1,
                        fix="name the header's columns as MovieLens does, or read the file with data=csv")
    return df, {role: name for name, role in roles.items()}


def _read_100k(path: Path, encoding: str | None) -> RawData:
    events_path, items_path = path / "u.data", path / "u.item"
    df = read_table(events_path, sep="\t", header=False, names=EVENT_NAMES, encoding=encoding, sep_key=None)
    events = _events(_without_header_line(df, events_path), events_path, {name: name for name in EVENT_NAMES})
    if not items_path.exists():
        return RawData(events, None, events_path, None, [events_path])
    movies = read_table(items_path, sep="|", header=False, names=ITEM_NAMES_100K,
                        encoding=encoding or "latin-1", sep_key=None)
    movies = _without_header_line(movies, items_path)
    flags = movies[GENRES_100K] == "1"
    genres = flags.apply(lambda row: GENRE_SEPARATOR.join(g for g, on in zip(GENRES_100K, row) if on), axis=1)
    text = _split_year(movies["title"]).assign(genres=genres)[["title", "genres", "year"]]
    return _raw(events, movies["item"], text, None, [events_path, items_path])


def _without_header_line(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A GroupLens file without header as shipped, or with a header line added by a copy
    (`user_id<TAB>item_id<TAB>rating<TAB>timestamp`): line 1 is taken for a header when none of
    its fields is a number, since every line of these files starts with a numeric id."""
    if len(df) and pd.to_numeric(df.iloc[0], errors="coerce").isna().all():
        if len(df) == 1:
            raise DataError(path, "has a header line and no data rows", row=1)
        log.info("%s: line 1 (%s) is a header line, skipped", path, ", ".join(map(str, df.iloc[0])))
        return df.iloc[1:]
    return df


def _events(df: pd.DataFrame, path: Path, cols: dict[str, str]) -> pd.DataFrame:
    """cols: role (user, item, rating, time) -> the column of `df` holding it."""
    user, item, rating, time = (cols[role] for role in EVENT_NAMES)
    return events_frame(
        ids(df[user], path, user), ids(df[item], path, item),
        parse_time(df[time], path, time, df.index.to_numpy()), df.index.to_numpy(),
        rating=ratings(df[rating], path, rating))


def _raw(events: pd.DataFrame, item: pd.Series, text: pd.DataFrame, tag_text: pd.Series | None,
         sources: list[Path]) -> RawData:
    """sources: events file, catalogue, then the tags file if any."""
    events_path, items_path = sources[:2]
    item = ids(item, items_path, str(item.name))
    unique_ids(item, items_path, str(item.name))
    fields = ["title", "genres", "year"]
    if tag_text is not None:
        text = text.assign(tags=item.map(tag_text).fillna(""))
        fields.append("tags")
    return RawData(events, items_frame(item, text), events_path, items_path, sources,
                   text_fields=fields, category_separators={"genres": GENRE_SEPARATOR})


def _split_year(titles: pd.Series) -> pd.DataFrame:
    parts = titles.str.extract(TITLE_YEAR)
    return pd.DataFrame({"title": parts["title"].fillna(titles.str.strip()),
                         "year": parts["year"].fillna("")}, index=titles.index)


def _genres(genres: pd.Series) -> pd.Series:
    return genres.where(genres != NO_GENRES, "").str.replace("|", GENRE_SEPARATOR, regex=False)


def _tag_text(tags: pd.DataFrame, path: Path, cols: dict[str, str]) -> pd.Series:
    """item id -> its distinct tags (case-insensitive, first spelling), most frequent first."""
    df = pd.DataFrame({ITEM: ids(tags[cols["item"]], path, cols["item"]),
                       "tag": tags[cols["tag"]].astype(str).str.strip()})
    df = df[df["tag"] != ""]
    df = df.assign(key=df["tag"].str.lower(), order=range(len(df)))
    stats = (df.groupby([ITEM, "key"], sort=False)
             .agg(tag=("tag", "first"), count=("tag", "size"), first=("order", "min"))
             .reset_index()
             .sort_values([ITEM, "count", "first"], ascending=[True, False, True]))
    return stats.groupby(ITEM, sort=False)["tag"].agg(", ".join)
