"""Interest models: ID-only baselines and the language-model-assisted model.

Every model exposes `item_vectors() -> (n_items + 1, d)` and `user_vectors(items, times) ->
(batch, d)`; a user's score for an item is their dot product. Row 0 of the item table is padding.
"""
