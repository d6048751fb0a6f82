"""What inputs/ raises for the user to fix: each message is the one line the user sees (run_study.py then
exits with status 2, before any training)."""


class InputError(Exception):
    """Something in what feeds the study - its data, a strategy's files or options, a service - cannot work."""


class DataError(InputError):
    """A data source (or a strategy's files made from it) is missing or unreadable; the message says what to do."""


class DamagedFileError(DataError):
    """A file the study wrote and can write again (a TFRecord shard) is missing or damaged: `path` names it.
    Found inside a trial, the study runs the strategy's `prepare` again, which rebuilds it, and then the trial
    (study.repair)."""

    def __init__(self, message: str, path):
        super().__init__(message)
        self.path = str(path)
