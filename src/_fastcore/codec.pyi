"""Native record decoder; the same contract as :func:`hxredis.codec.py_decode_record`."""

from hxredis.errors import ParseError
from hxredis.record import Rec
from hxredis.values import Ref

def decode_record(key: str, text: bytes | str, refs: dict[str, Ref]) -> Rec: ...
def decode_records(
    chunk: dict[bytes | str, bytes | str], refs: dict[str, Ref], out: dict[str, Rec]
) -> list[tuple[str, ParseError]]: ...
