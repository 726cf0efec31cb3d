"""Read a GroupLens MovieLens folder, whichever of its three layouts it uses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dynrec_cli.data.readers.frames import events_frame, ids, items_frame, ratings, unique_ids
from dynrec_cli.data.readers.tables import read_table
from dynrec_cli.data.readers.timeparse import parse_time
from dynrec_cli.data.types import ITEM, RawData
from dynrec_cli.errors import DataError

LAYOUTS = ("ratings.csv + movies.csv [+ tags.csv] (ml-latest, ml-20m, ml-25m), "
           "ratings.dat + movies.dat [+ tags.dat] (ml-1m, ml-10m), u.data + u.item (ml-100k)")
EVENT_NAMES = ["user", "item", "rating", "time"]
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
    """ratings/movies/tags with the same layout: .csv (with header) or .dat (`::`, none)."""
    names = None if header else EVENT_NAMES
    events_path, items_path, tags_path = (path / f"{n}{ext}" for n in ("ratings", "movies", "tags"))
    df = read_table(events_path, sep=sep, header=header, names=names, encoding=encoding)
    if header:
        df.columns = EVENT_NAMES + list(df.columns[4:])
    events = _events(df, events_path)
    if not items_path.exists():
        return RawData(events, None, events_path, None, [events_path])
    movies = read_table(items_path, sep=sep, header=header, names=None if header else
                        ["item", "title", "genres"], encoding=encoding)
    title_year = _split_year(movies.iloc[:, 1])
    text = title_year.assign(genres=_genres(movies.iloc[:, 2]))[["title", "genres", "year"]]
    sources, tag_text = [events_path, items_path], None
    if tags_path.exists():
        tags = read_table(tags_path, sep=sep, header=header,
                          names=None if header else ["user", "item", "tag", "time"],
                          encoding=encoding)
        sources, tag_text = sources + [tags_path], _tag_text(tags, tags_path)
    return _raw(events, movies.iloc[:, 0], text, tag_text, sources)


def _read_100k(path: Path, encoding: str | None) -> RawData:
    events_path, items_path = path / "u.data", path / "u.item"
    df = read_table(events_path, sep="\t", header=False, names=EVENT_NAMES, encoding=encoding)
    events = _events(df, events_path)
    if not items_path.exists():
        return RawData(events, None, events_path, None, [events_path])
    movies = read_table(items_path, sep="|", header=False, names=ITEM_NAMES_100K,
                        encoding=encoding or "latin-1")
    flags = movies[GENRES_100K] == "1"
    genres = flags.apply(lambda row: GENRE_SEPARATOR.join(g for g, on in zip(GENRES_100K, row) if on), axis=1)
    text = _split_year(movies["title"]).assign(genres=genres)[["title", "genres", "year"]]
    return _raw(events, movies["item"], text, None, [events_path, items_path])


def _events(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    cols = df.columns
    return events_frame(
        ids(df[cols[0]], path, cols[0]), ids(df[cols[1]], path, cols[1]),
        parse_time(df[cols[3]], path, cols[3], df.index.to_numpy()), df.index.to_numpy(),
        rating=ratings(df[cols[2]], path, cols[2]))


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


def _tag_text(tags: pd.DataFrame, path: Path) -> pd.Series:
    """item id -> its distinct tags (case-insensitive, first spelling), most frequent first."""
    df = pd.DataFrame({ITEM: ids(tags.iloc[:, 1], path, str(tags.columns[1])),
                       "tag": tags.iloc[:, 2].str.strip()})
    df = df[df["tag"] != ""]
    df = df.assign(key=df["tag"].str.lower(), order=range(len(df)))
    stats = (df.groupby([ITEM, "key"], sort=False)
             .agg(tag=("tag", "first"), count=("tag", "size"), first=("order", "min"))
             .reset_index()
             .sort_values([ITEM, "count", "first"], ascending=[True, False, True]))
    return stats.groupby(ITEM, sort=False)["tag"].agg(", ".join)
