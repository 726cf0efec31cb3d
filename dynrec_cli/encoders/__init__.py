"""Language models for item text: loading, pooling, batched encoding, an embedding cache, and
domain-adaptive pretraining.

Modules import torch and transformers, so import them where they are used (not here): the CLI
must answer `--help` without loading either.

    loading   load_language_model -> LoadedLM (package:, local folder, Hub id, tiny)
    hub       download: a Hub id into Hugging Face's cache (online), or from it (HF_HUB_OFFLINE=1)
    pooling   pool, check_pooling
    encode    encode_texts -> EncodeResult, text_batches (by count or token budget), clean_text
    cache     EmbeddingCache, encode_with_cache
    mlm       continue_pretraining, save_lm
"""
