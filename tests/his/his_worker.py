"""A second OS process for the multi-process history tests; prints one JSON document.

Usage: ``python his_worker.py URI NAME ID FIRST COUNT``: write COUNT samples to point ID,
one ``his.write`` each, at FIRST + i seconds (epoch) with value i, until done or the record
is gone (UnknownRecError).  Reports ``written`` and ``gone``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta

import hxredis as hx


def main(argv: list[str]) -> int:
    uri, name, rec_id, first, count = argv
    db = hx.open(uri, name=name, follow=False)
    out = {"written": 0, "gone": False}
    try:
        zone = hx.tz(db.read_by_id(rec_id)["tz"])
        start = datetime.fromtimestamp(int(first), zone)
        for i in range(int(count)):
            item = hx.HisItem(start + timedelta(seconds=i), hx.Number(i))
            try:
                db.his.write(rec_id, [item])
            except hx.UnknownRecError:
                out["gone"] = True
                break
            out["written"] += 1
    finally:
        db.close()
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
