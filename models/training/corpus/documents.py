"""A document: one file of one source in one language, read lazily."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Doc:
    source: str
    path: str
    read: Callable[[str], list]  # path -> raw text units (a line, or a multi-line entry)
    catalog: bool = False  # units are independent (messages, fortunes): may be shuffled
