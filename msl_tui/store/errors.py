"""Store errors carry one line a person can act on."""


class StoreError(Exception):
    """Opening or writing the store failed; the message says what to do."""
