"""Compatibility layers for code written against other libraries, on ckv's engine.

- ``ckv.compat.ckvd``: the public API of crypto-kline-vision-data (``ckvd``), ckv's direct
  ancestor: ``CryptoKlineVisionData.create(...).get_data(...)``, ``fetch_market_data(...)``
  and its enums, returning pandas DataFrames laid out as ckvd lays them out. Needs pandas
  (``pip install "ckv[compat]"``).
"""

from __future__ import annotations

__all__: list[str] = []
