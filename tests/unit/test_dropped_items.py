"""prepare's record of the items it dropped: the first step that removed each item's last event."""

from __future__ import annotations

import pandas as pd

from dynrec_cli.data import clean
from dynrec_cli.data.dropped import CATALOGUE_ONLY, DropLog


def test_each_dropped_item_gets_the_step_that_removed_it() -> None:
    # b has one event; c two, from users with no other event; d is rated low
    events = pd.DataFrame({
        "user": ["u1", "u2", "u3", "u1", "u4", "u5", "u1", "u2", "u3"],
        "item": ["a", "a", "a", "b", "c", "c", "d", "e", "e"],
        "rating": [5, 5, 5, 5, 5, 5, 1, 5, 5],
    })
    drops = DropLog(events)
    rated = events[events["rating"] >= 3]
    drops.step(rated, "data.min_rating=3")
    kept = clean.kcore(rated, 2, 2)
    drops.kcore(rated, kept, 2, 2)
    reasons = drops.frame(pd.DataFrame({"item": ["a", "z"]})).set_index("item_id")["reason"].to_dict()
    assert reasons == {
        "d": "data.min_rating=3",
        "b": "data.min_item_interactions=2 (it had 1 event)",
        "c": "the k-core of data.min_user_interactions=2 and data.min_item_interactions=2 (its 2 events fell below 2 "
             "once sparse users were removed)",
        "z": CATALOGUE_ONLY,
    }
    assert set(kept["item"]) == {"a", "e"}
