"""What inputs/ raises for the user to fix: each message is the one line the user sees (run_study.py then
exits with status 2, before any training)."""


class InputError(Exception):
    """Something in what feeds the study - its data, a strategy's files or options, a service - cannot work."""


class DataError(InputError):
    """A data source (or a strategy's files made from it) is missing or unreadable; the message says what to do."""
