"""Cut the redistributable MovieLens sample from the full ml-latest-small.

The sample is package data (`dynrec_cli/data/samples/ml-latest-small/`, shipped in the wheel:
`data=sample`); `data/samples/ml-latest-small` links to it.

Run from the repository root:

    python data/samples/make_sample.py [SOURCE_FOLDER]

It picks 300 users at random (numpy default_rng(7)) among those with 20 to 400 ratings, keeps
their whole rating histories, the movies they rated and every tag (by any user) on those movies,
copies the GroupLens README as LICENSE.txt and writes README.md with the counts.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

N_USERS, MIN_RATINGS, MAX_RATINGS, SEED = 300, 20, 400, 7
OUT = Path(__file__).resolve().parents[2] / "dynrec_cli" / "data" / "samples" / "ml-latest-small"

README = """# MovieLens ml-latest-small: a 300-user sample

A small slice of GroupLens' MovieLens **ml-latest-small** (the October 2016 release: 100,004
ratings, 671 users), shipped so that the demo, the tests and the quick start run offline.

| file | rows | columns |
|---|---|---|
| ratings.csv | {ratings:,} | userId, movieId, rating, timestamp |
| movies.csv | {movies:,} | movieId, title, genres |
| tags.csv | {tags:,} | userId, movieId, tag, timestamp |

{users} users, {movies:,} movies, {ratings:,} ratings, {tags:,} tag applications.

## Licence

The data stay under the GroupLens usage licence, reproduced in full in `LICENSE.txt` (the
original README.txt): research use only, no commercial use without permission, no implied
endorsement by the University of Minnesota or GroupLens; redistribution, including
transformations such as this sample, is allowed only under the same licence conditions.
Publications that use the data must cite:

> F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context.
> ACM Transactions on Interactive Intelligent Systems (TiiS) 5, 4, Article 19 (December 2015),
> 19 pages. https://doi.org/10.1145/2827872

GroupLens calls ml-latest-small a *development* dataset: do not report research results on it.

## How it was cut

`python data/samples/make_sample.py ../shared/datasets/ml-latest-small` (the script is
`data/samples/make_sample.py`):

1. count each user's ratings in `ratings.csv`; keep the users with {min_r} to {max_r} ratings;
2. draw {users} of them without replacement with `numpy.random.default_rng({seed}).choice` over
   the sorted user ids;
3. keep every rating of those users, the `movies.csv` rows of the movies they rated, and the
   `tags.csv` rows (by any user) for those movies, in the original file order, with the
   original columns and values;
4. copy the original `README.txt` as `LICENSE.txt`.
"""


def cut(source: Path, out: Path) -> dict[str, int]:
    """Write the sample from `source` into `out` and return its counts."""
    ratings, movies, tags = (_read(source / name) for name in ("ratings.csv", "movies.csv",
                                                               "tags.csv"))
    counts = ratings["userId"].value_counts()
    eligible = np.sort(counts[(counts >= MIN_RATINGS) & (counts <= MAX_RATINGS)].index
                       .astype(int).to_numpy())
    users = set(np.random.default_rng(SEED).choice(eligible, N_USERS, replace=False).astype(str))
    ratings = ratings[ratings["userId"].isin(users)]
    movies = movies[movies["movieId"].isin(set(ratings["movieId"]))]
    tags = tags[tags["movieId"].isin(set(movies["movieId"]))]
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in [("ratings.csv", ratings), ("movies.csv", movies), ("tags.csv", tags)]:
        frame.to_csv(out / name, index=False, lineterminator="\n")
    shutil.copyfile(source / "README.txt", out / "LICENSE.txt")
    return {"users": len(users), "movies": len(movies), "ratings": len(ratings), "tags": len(tags)}


def _read(path: Path) -> pd.DataFrame:
    """All columns as the original strings, so the rows are written back unchanged."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default="../shared/datasets/ml-latest-small",
                        type=Path, help="the unzipped ml-latest-small folder")
    counts = cut(parser.parse_args().source, OUT)
    (OUT / "README.md").write_text(README.format(**counts, min_r=MIN_RATINGS, max_r=MAX_RATINGS,
                                                 seed=SEED))
    print(counts)


if __name__ == "__main__":
    main()
