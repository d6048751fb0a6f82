"""What values a setting takes (`Rule`) and how the command line has it (`Option`): the pieces
study/config.py describes each StudyConfig field with, so that a field's flag, help, parsing and check are
written once, beside the field."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable


class ConfigError(Exception):
    """A bad option: the message is the one line the user sees (exit status 2)."""


def is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class Rule:
    """The values a setting takes and the words that say so; `kind` turns the text typed into a value."""

    what: str  # "a positive integer"
    accepts: Callable[[Any], bool]
    kind: Callable[[str], Any] = str
    message: str = "{flag}: must be {what}, got {value!r}"
    lowest: int | None = None  # an integer rule's lowest value (a sweep's values are checked against it)


def integers_from(lowest: int, what: str) -> Rule:
    return Rule(what, lambda value: is_integer(value) and value >= lowest, int, lowest=lowest)


def positive_numbers_of(unit: str) -> Rule:
    return Rule(f"a positive number of {unit}", lambda value: is_number(value) and 0 < value < math.inf, float)


def one_of(names, aliases=()) -> Rule:
    return Rule(f"one of {', '.join(names)}", lambda value: value in names or value in aliases)


POSITIVE_INTEGER = integers_from(1, "a positive integer")
NON_NEGATIVE_INTEGER = integers_from(0, "a non-negative integer")
FOLDER = Rule("a folder", lambda value: isinstance(value, str) and bool(value.strip()),
              message="{flag}: a folder is needed, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Option:
    """A StudyConfig field as the command line has it: its flag, its help ({default} is filled in), the rule
    its values follow (None: checked elsewhere, or any text), and how the text typed becomes the value."""

    flag: str
    help: str
    rule: Rule | None = None
    parse: Callable[[str], Any] | None = None  # default: the rule's kind
    unset: bool = False  # None is a value too: left to the planner, or not used
    switch: bool = False  # given or not, no value
    sweepable: bool = False  # --sweep may set it (named like its flag without the dashes)
    metavar: str | None = None
    unit: float = 1  # the field holds the value typed divided by this (--margin is typed in percent)
    default: Any = None  # the field's default, filled in by study/config.py (None for one made per config: --out's)

    def value(self, text):
        """The field's value for the text typed; a text that is no value of this option is a ConfigError."""
        if self.switch:
            return True
        try:
            value = (self.parse or (self.rule.kind if self.rule else str))(text)
        except ValueError:
            raise ConfigError(self.refusal(text)) from None
        return value / self.unit if self.unit != 1 else value

    def check(self, value) -> None:
        if self.rule is None or (value is None and self.unset):
            return
        if not self.rule.accepts(value):
            raise ConfigError(self.refusal(value * self.unit if self.unit != 1 and is_number(value) else value))

    def refusal(self, value) -> str:
        return self.rule.message.format(flag=self.flag, what=self.rule.what, value=value)

    def help_text(self, **context) -> str:
        """The help, with the default as the user would type it (and `context`'s names filled in)."""
        default = self.default
        if isinstance(default, tuple):
            shown = ",".join(map(str, default))
        else:
            shown = f"{default * self.unit:g}" if is_number(default) else str(default)
        return self.help.format(default=shown, **context)
