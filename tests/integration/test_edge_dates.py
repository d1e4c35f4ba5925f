"""Date and Last-Modified reach viewers exactly as the origin sent them, from every path.

The memory tier keeps IMF-fixdates as numbers and writes them back as lines
(docs/cache-storage.md); other forms stay lines. Either way a viewer sees the origin's bytes.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.support.client import Resp, read_response
from tests.support.origin import Reply, TestOrigin

MODIFIED = "Wed, 25 Nov 2026 16:55:00 GMT"
# The origin's Date is now, as origins send it: an old Date would make the object stale on
# arrival (RFC 9111 apparent age).
IMF = "%a, %d %b %Y %H:%M:%S GMT"
RFC850 = "%A, %d-%b-%y %H:%M:%S GMT"


async def _ask(port: int, head: bytes, times: int) -> list[Resp]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        out = []
        for _ in range(times):
            writer.write(head)
            await writer.drain()
            out.append(await asyncio.wait_for(read_response(reader), 10))
        return out
    finally:
        writer.close()


@pytest.mark.parametrize(
    ("date_form", "modified"),
    [
        (IMF, MODIFIED),
        (RFC850, "Wed Nov 25 16:55:00 2026"),  # obsolete forms
    ],
)
async def test_hits_carry_the_origins_date_and_last_modified(
    origin: TestOrigin, make_edge, date_form: str, modified: str
) -> None:
    date = time.strftime(date_form, time.gmtime())
    headers = [("Cache-Control", "max-age=600"), ("Date", date), ("Last-Modified", modified)]
    origin.set("/d", Reply(200, headers, b"dated body"))
    edge = await make_edge(origin.port)
    head = b"GET /d HTTP/1.1\r\nHost: test.local\r\n\r\n"
    answers = await _ask(edge.port, head, 5)  # a miss, hits, then the repeated-head memo
    assert [a.x_cache for a in answers] == ["Miss from cloudfront"] + ["Hit from cloudfront"] * 4
    for a in answers:
        assert (a.h("date"), a.h("last-modified"), a.body) == (date, modified, b"dated body")
        assert sum(n.lower() == "date" for n, _ in a.headers) == 1
    cond = (
        b"GET /d HTTP/1.1\r\nHost: test.local\r\nIf-Modified-Since: %s\r\n\r\n" % MODIFIED.encode()
    )
    (not_modified,) = await _ask(edge.port, cond, 1)
    assert not_modified.status == 304
    assert not_modified.h("last-modified") == modified
