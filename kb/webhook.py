"""Tickets to a help desk webhook: a JSON POST, signed when KB_WEBHOOK_SECRET is set.

The signature follows the scheme Stripe and others use, so receivers know it:
`KB-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The timestamp is
signed with the body, so a receiver can reject an old delivery replayed by someone who saw it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

SIGNATURE_HEADER = "KB-Signature"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would follow a 301/302 on a POST by sending a bodiless GET, and a 200 to that GET
    would mark a ticket delivered that the help desk never saw. A redirect is a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} not followed; "
                                     "set KB_WEBHOOK_URL to the final address", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `KB-Signature` header value for one delivery."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body,
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_ticket(url: str, ticket: dict[str, Any], timeout: float, secret: str = "") -> None:
    """POST `{"ticket": ...}`; raise on anything but a 2xx answer (redirects included). The
    `Idempotency-Key` lets a help desk drop a repeat if our "delivered" mark was lost."""
    body = json.dumps({"ticket": ticket}).encode("utf-8")
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"ticket-{ticket['id']}",
               "User-Agent": "driftbox-kb"}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body, int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with _OPENER.open(request, timeout=timeout) as response:  # noqa: S310 - operator's URL
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not 2xx", response.headers, None)
