"""Private helpers shared by ckv's subpackages: time conversion (``times``), ``CKV_*``
configuration (``config``), the progress line (``progress``), Arrow helpers (``arrow``),
warnings that point at the caller (``warn``) and the vocabulary of markets, datasets and
intervals (``vocab``)."""
