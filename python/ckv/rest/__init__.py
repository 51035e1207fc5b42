"""Binance REST (spot /api/v3, USD-M /fapi/v1, COIN-M /dapi/v1) for the days Vision lacks.

``RestClient`` pages the datasets (``endpoints``) through a transport (``client``) that paces
every request by the weight budget learned from ``exchangeInfo`` (``limits``), checks every
answer before use (``validate``: malformed bodies are retried ``ProtocolError``s), honours
429/418, and converts rows to exactly the archive schema (``tables``).
"""

from __future__ import annotations

from .._util.vocab import PRICE_DATASET as KLINE_PATH
from .client import PREFIX, Transport
from .endpoints import KLINE_LIMIT, US_ERA_SPOT, RestClient
from .limits import DEFAULT_LIMITS, Budget, budget_for, forget_budgets, request_weight

__all__ = [
    "DEFAULT_LIMITS",
    "KLINE_LIMIT",
    "KLINE_PATH",
    "PREFIX",
    "US_ERA_SPOT",
    "Budget",
    "RestClient",
    "Transport",
    "budget_for",
    "forget_budgets",
    "request_weight",
]
