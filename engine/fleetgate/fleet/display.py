"""How amounts, counts and byte sizes read in messages and tables: rounded for display only."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["count", "exact", "money", "size", "unit_price"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def exact(amount: Decimal) -> str:
    """An exact amount as decimal text, without an exponent or trailing zeros: ``"1106.7"``."""
    text = format(amount.normalize(), "f")
    return text if text != "-0" else "0"


def money(amount: Decimal | str, currency: str) -> str:
    """``$1,105.23``; a currency without a common symbol is written after: ``1,105.23 CHF``."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    text = f"{value:,.2f}"
    symbol = _SYMBOLS.get(currency)
    if symbol is None:
        return f"{text} {currency}"
    return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"


def unit_price(amount: Decimal | str, currency: str) -> str:
    """A price per unit, exactly as the price sheet gives it: ``$0.085``."""
    text = format(Decimal(amount).normalize(), "f")
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def count(number: int) -> str:
    return f"{number:,}"


def size(number: int) -> str:
    """Decimal units, as CDNs bill them: ``42.0 MB``, ``13.0 TB``."""
    value = Decimal(number)
    unit = 0
    while abs(value) >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{number} B" if unit == 0 else f"{value:.1f} {_UNITS[unit]}"
