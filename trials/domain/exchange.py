"""Exchange rates a user enters, and money converted with them, exact to the micro-unit.

Money is never summed across currencies: a portfolio keeps one table per currency unless
the user gives rates, and then converts only the currencies it has a rate for (a trial in
another currency is shown on its own, never converted at a guessed rate or dropped).
``USD=7.1`` with target CNY means 1 USD = 7.1 CNY. Rates are decimals, so 12.345678 USD
at 7.1 is 87.654314 CNY (half to even at the sixth decimal), not a float's nearest guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from trials.domain.errors import UserError

__all__ = ["MICROS", "Rates", "convert_micros", "currency_code", "micros", "parse_rate"]

MICROS = 1_000_000
_CODE = re.compile(r"^[A-Z]{3}$")


def micros(amount: float) -> int:
    """A stored amount (a float of whole micro-units, as the database keeps it) in
    micro-units."""
    return round(amount * MICROS)


def convert_micros(amount: int, rate: Decimal) -> int:
    """``amount`` micro-units times ``rate``, rounded half to even to a micro-unit."""
    return int((Decimal(amount) * rate).to_integral_value(rounding=ROUND_HALF_EVEN))


def currency_code(text: str, what: str = "the currency") -> str:
    code = text.strip().upper()
    if not _CODE.match(code):
        raise UserError(
            f"{what} {text.strip()!r} is not a currency code: give three letters, e.g. CNY"
        )
    return code


def parse_rate(text: str) -> tuple[str, Decimal]:
    """``USD=7.1`` as ("USD", Decimal("7.1")); a clear UserError otherwise."""
    code, sep, value = text.partition("=")
    if not sep:
        raise UserError(
            f"rate {text!r}: write it as CODE=VALUE, e.g. USD=7.1 (1 USD = 7.1 of --currency)"
        )
    code = currency_code(code, f"rate {text!r}:")
    try:
        rate = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        raise UserError(f"rate {text!r}: {value.strip()!r} is not a number") from None
    if not rate.is_finite() or rate <= 0:
        raise UserError(f"rate {text!r}: a rate must be a positive number")
    if rate.as_tuple().exponent < -12 or rate > Decimal(10) ** 9:
        raise UserError(f"rate {text!r}: give at most 12 decimals and at most 1,000,000,000")
    return code, rate


@dataclass(frozen=True)
class Rates:
    """The rates a user gave: 1 unit of each key = that many units of ``target``."""

    target: str | None = None
    rates: dict[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rates and self.target is None:
            raise UserError("exchange rates need a target currency: give --currency, e.g. CNY")
        if self.target is not None and self.target in self.rates and self.rates[self.target] != 1:
            raise UserError(f"a rate for {self.target} itself must be 1")

    @classmethod
    def parse(cls, target: str | None, given: list[str] | tuple[str, ...] = ()) -> Rates:
        code = currency_code(target, "--currency") if target else None
        rates: dict[str, Decimal] = {}
        for text in given:
            key, rate = parse_rate(text)
            if key in rates and rates[key] != rate:
                raise UserError(f"two rates for {key}: {rates[key]} and {rate}; give one")
            rates[key] = rate
        return cls(code, rates)

    def rate(self, currency: str) -> Decimal | None:
        """The rate from ``currency`` to the target; 1 for the target itself; None without one."""
        if self.target is None:
            return None
        if currency == self.target:
            return Decimal(1)
        return self.rates.get(currency)

    def key(self) -> tuple:
        return (self.target, tuple(sorted((k, str(v)) for k, v in self.rates.items())))
