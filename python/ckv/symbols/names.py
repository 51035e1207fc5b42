"""Symbol names: ``(base, quote)`` of a Binance symbol and the base asset without a USD-M
contract multiplier prefix."""

from __future__ import annotations

import re

# Quote assets Binance has used, matched as the longest suffix that leaves a non-empty base.
QUOTE_ASSETS = tuple(
    sorted(
        (
            "FDUSD USDT USDC BUSD TUSD USDP USDS AEUR EURI USD1 BIDR IDRT BKRW BVND DOGE "
            "BTC ETH BNB XRP TRX DOT SOL DAI UST PAX VAI EUR GBP AUD BRL TRY RUB UAH NGN ZAR "
            "PLN RON ARS JPY MXN COP CZK USD"
        ).split(),
        key=len,
        reverse=True,
    )
)
_MULTIPLIER = re.compile(r"^(?:1000000|1000|1M)(?=[A-Z]{2})")


def split_symbol(symbol: str, market: str = "spot") -> tuple[str, str | None]:
    """``(base, quote)`` of a symbol: ``BTCUSDT`` → BTC/USDT, ``BTCUSD_PERP`` and dated
    ``BTCUSD_240628`` → BTC/USD, ``ETHUSDT_240628`` → ETH/USDT. The quote is the longest known
    quote asset (``QUOTE_ASSETS``) the pair ends with; ``(symbol, None)`` when none fits."""
    pair = symbol.split("_", 1)[0]
    if market == "cm" and pair.endswith("USD") and len(pair) > len("USD"):
        return pair[: -len("USD")], "USD"
    for quote in QUOTE_ASSETS:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    return pair, None


def normal_base(base: str) -> str:
    """The base asset without a contract multiplier prefix: USD-M lists ``1000SHIBUSDT`` for
    spot's ``SHIBUSDT`` (also ``1000000…`` and ``1M…``)."""
    return _MULTIPLIER.sub("", base)
