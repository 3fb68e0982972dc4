"""Generators of well-formed ID numbers and credit codes for demo data.

The numbers pass the real check-digit rules but belong to nobody: birth
dates and sequence numbers come from a seeded random generator.
"""

from datetime import date, timedelta

from models.validators import (
    CREDIT_ALPHABET,
    credit_code_check_char,
    id_number_check_char,
)

# Administrative codes of Foshan's districts, for plausible ID prefixes.
REGION_CODES = ("440602", "440604", "440605", "440606", "440607", "440608")


def make_id_number(rng):
    birth = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 35))
    first17 = (
        rng.choice(REGION_CODES)
        + birth.strftime("%Y%m%d")
        + f"{rng.randrange(1000):03d}"
    )
    return first17 + id_number_check_char(first17)


def make_credit_code(rng):
    body = "91440605" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
    return body + credit_code_check_char(body)


def make_mobile(rng):
    second_digit = rng.choice("3456789")
    return "1" + second_digit + f"{rng.randrange(10**9):09d}"
