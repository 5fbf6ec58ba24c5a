"""The stack test's checks, run from outside the containers against the published web port.

    python scripts/stack_check.py ready   --url URL [--live] [--timeout S]
    python scripts/stack_check.py ingest  --url URL --token T --count N --tag TAG
    python scripts/stack_check.py status  --url URL --token T --tag TAG
    python scripts/stack_check.py settled --url URL --token T --tag TAG --count N [--timeout S]

`ingest` posts N emails through the batch API and says how many were accepted; `settled`
waits until every email of TAG has left `pending` and fails (exit 1) if any is missing,
failed or still pending at the deadline. Standard library only: no project install needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TEXTS = [
    "I still have not received my new card, it has been two weeks",
    "Why was I charged a fee for my transfer abroad?",
    "My card payment was declined at the supermarket this morning",
    "How do I top up my account with a bank transfer?",
    "I think someone used my card without permission, please block it",
    "What exchange rate do you use when I pay in euros?",
    "I forgot my passcode and cannot log into the app",
    "The cash withdrawal at the ATM was not given but my balance went down",
]


def request(url: str, token: str | None = None, data: object = None) -> tuple[int, object]:
    # As the TLS proxy in front of the web container would: production settings redirect
    # plain HTTP to HTTPS otherwise.
    headers = {"Accept": "application/json", "X-Forwarded-Proto": "https"}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def ready(args) -> int:
    """Wait for /readyz (database, broker, model), or with --live for /healthz (the process
    serves; no model needed yet); where the endpoint does not exist, the login page."""
    deadline = time.monotonic() + args.timeout
    last = ""
    endpoint = "/healthz" if args.live else "/readyz"
    while time.monotonic() < deadline:
        try:
            status, body = request(f"{args.url}{endpoint}")
            if status == 404:
                status, body = request(f"{args.url}/accounts/login/")
            if status == 200:
                print(f"stack_check: {'live' if args.live else 'ready'} ({args.url})")
                return 0
            last = f"HTTP {status}: {str(body)[:200]}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(2)
    print(f"stack_check: not ready after {args.timeout}s: {last}", file=sys.stderr)
    return 1


def ingest(args) -> int:
    emails = [
        {
            "message_id": f"<{args.tag}-{i}@stack-test.example>",
            "sender": f"customer{i}@stack-test.example",
            "subject": f"{args.tag} #{i}",
            "body_text": TEXTS[i % len(TEXTS)],
        }
        for i in range(args.count)
    ]
    accepted = 0
    for start in range(0, len(emails), 50):
        status, body = request(
            f"{args.url}/api/emails/batch/", args.token, emails[start : start + 50]
        )
        if status != 200:
            print(f"stack_check: batch failed: HTTP {status}: {body}", file=sys.stderr)
            return 1
        accepted += body["accepted"]
    print(f"stack_check: {accepted}/{args.count} emails of {args.tag} accepted")
    return 0 if accepted == args.count else 1


def _emails(args) -> list[dict]:
    found, url = [], f"{args.url}/api/emails/?search={args.tag}&page_size=100"
    while url:
        status, body = request(url, args.token)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body}")
        found += [e for e in body["results"] if e["subject"].startswith(f"{args.tag} #")]
        url = _same_origin(body.get("next"), args.url)
    return found


def _same_origin(link: str | None, base: str) -> str | None:
    """The API builds `next` links for the https origin the proxy header announces; we talk
    to the container's plain HTTP port."""
    if not link:
        return None
    parts, origin = urllib.parse.urlsplit(link), urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((origin.scheme, origin.netloc, *parts[2:]))


def status(args) -> int:
    """Print how many emails of TAG are in each status (no check)."""
    by_status: dict[str, int] = {}
    for email in _emails(args):
        by_status[email["status"]] = by_status.get(email["status"], 0) + 1
    print(f"stack_check: {args.tag} now: {by_status}")
    return 0


def settled(args) -> int:
    deadline = time.monotonic() + args.timeout
    while True:
        emails = _emails(args)
        by_status: dict[str, int] = {}
        for email in emails:
            by_status[email["status"]] = by_status.get(email["status"], 0) + 1
        done = len(emails) == args.count and "pending" not in by_status
        if done or time.monotonic() > deadline:
            break
        time.sleep(2)
    print(f"stack_check: {args.tag}: {len(emails)}/{args.count} emails, {by_status}")
    intents = {e.get("intent") for e in emails if e["status"] == "classified"}
    if not done or by_status.get("failed"):
        print("stack_check: emails lost, failed or still pending", file=sys.stderr)
        return 1
    if not by_status.get("classified"):
        print("stack_check: nothing was classified", file=sys.stderr)
        return 1
    print(
        f"stack_check: {len(intents)} distinct intents, e.g. {sorted(i for i in intents if i)[:3]}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["ready", "ingest", "status", "settled"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token")
    parser.add_argument("--tag", default="stack")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--live", action="store_true", help="ready: liveness, not readiness")
    args = parser.parse_args()
    return {"ready": ready, "ingest": ingest, "status": status, "settled": settled}[args.command](
        args
    )


if __name__ == "__main__":
    sys.exit(main())
