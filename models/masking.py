"""Masking of personal data for viewers who do not need it in full."""


def mask_id_number(id_number):
    """Keep the first 6 and last 4 characters of a resident ID number."""
    if not id_number:
        return id_number
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_mobile(mobile):
    if not mobile or len(mobile) != 11:
        return mobile
    return mobile[:3] + "****" + mobile[-4:]
