# Types of the C scanner (_kvdt.c) for mypy; the Python loop in kvdt.py is its reference.
from collections.abc import Callable, Sequence
from typing import Any

from .catalogue import GopInfo
from .model import Case, Service
from .rules import CapService, FirstPass

class Scanner:
    def __init__(
        self, reader: Any, table: bytes, adjust: int, case: Case, service: Service, kinds: tuple[str, ...]
    ) -> None: ...
    def feed(self, block: bytes, /) -> list[Case]: ...
    def finish(self) -> Case | None: ...
    @property
    def bsnr(self) -> str | None: ...
    @property
    def number(self) -> int: ...
    @property
    def seen_record(self) -> bool: ...

def configure(case: type[Case], service: type[Service], video: str, telephone: str, personal: str, /) -> None: ...
def first_pass(
    scheine: Sequence[Case],
    infos: dict[str, GopInfo | None],
    info: Callable[[str], GopInfo | None],
    unknown_gops: dict[str, int],
    want_caps: bool,
    /,
) -> FirstPass: ...
def count_caps(
    cap_services: list[CapService],
    kind_of_visit: dict[int, str],
    totals: dict[tuple[str | None, str], int],
    by_video: dict[tuple[str | None, str], int],
    volume: bool,
    /,
) -> None: ...
def bloom(filter: bytearray, hash: int, add: bool, /) -> bool: ...
def check_plain(
    scheine: Sequence[Case],
    age: int | None,
    state: tuple[
        dict[str, GopInfo | None],
        Callable[[str], GopInfo | None],
        dict[str, int],
        dict[str, str | None],
        tuple[dict[tuple[str | None, str], int], dict[tuple[str | None, str], int], bool] | None,
        list[int],
        dict[str, list[int]],
        bool,
        str,
    ],
    /,
) -> tuple[int, int, int, bool] | None: ...
def group_key(schein: Case, /) -> bytes | None: ...

class Window:
    def __init__(self, window: int, fallback: Callable[[Case], bytes | None], /) -> None: ...
    def push(self, schein: Case, /) -> Case | list[Case] | None: ...
    def flush(self) -> list[Case | list[Case]]: ...
    @property
    def scattered(self) -> int: ...
    @property
    def pushed(self) -> int: ...
    @property
    def bloom(self) -> bytearray | None: ...
