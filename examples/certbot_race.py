"""Two certbot DNS-01 authenticators for one name, racing: certbot-dns-route53, unmodified.

A certificate for ``example.com`` and ``*.example.com`` is validated through one
TXT record, ``_acme-challenge.example.com``: both authorizations put their value
there. Here two certbot runs (one for the apex, one for the wildcard) each use
their own ``certbot_dns_route53`` Authenticator, as two processes would. Each
actor runs the plugin's own ``perform`` (find the zone with ListHostedZones, UPSERT
the TXT record with the values *this* authenticator knows, poll GetChange with
``time.sleep(5)`` until INSYNC), waits while the CA validates, and runs its
``cleanup`` (DELETE, or UPSERT of the values it still knows).

The invariant: while an authenticator waits for the CA (from its perform returning
to its cleanup starting), DNS serves its challenge value. Each UPSERT carries only
its own authenticator's values, so the second one removes the first one's value.

    cd examples && dnschaos run certbot_race:certbot_race --seed 1
    dnschaos run examples.certbot_race:certbot_race --seed 1      # from the repository's root
    python -c "import certbot_race; print(certbot_race.certbot_race().run(seed=1).verdict)"

Needs ``pip install certbot-dns-route53`` (in dnschaos's dev extras).
"""

from __future__ import annotations

import random
import time
from types import SimpleNamespace
from typing import Any

import josepy as jose
from acme import challenges, messages
from certbot import achallenges
from certbot_dns_route53._internal.dns_route53 import Authenticator
from cryptography.hazmat.primitives.asymmetric import ec

import dnschaos
from dnschaos.invariants import Failed, applied_changes, parse_change

NAME = "_acme-challenge.example.com."
# A fixed account key (the same in every process: the TXT values, and so the trace, are too).
ACCOUNT_KEY = jose.JWKEC(key=ec.derive_private_key(20250101, ec.SECP256R1()))
TOKENS = {"apex": b"apex-token-0123456789abcdefghij", "wildcard": b"wildcard-token-0123456789abcd"}


def challenge(token: bytes) -> achallenges.KeyAuthorizationAnnotatedChallenge:
    """A DNS-01 challenge as certbot gets it from the CA. A wildcard's authorization is
    for the base name (``*.example.com`` is validated at ``_acme-challenge.example.com``)."""
    body = messages.ChallengeBody(
        chall=challenges.DNS01(token=token),
        uri="https://acme.invalid/chall/" + token.decode(),
        status=messages.STATUS_PENDING,
    )
    return achallenges.KeyAuthorizationAnnotatedChallenge(
        challb=body,
        identifier=messages.Identifier(typ=messages.IDENTIFIER_FQDN, value="example.com"),
        account_key=ACCOUNT_KEY,
    )


def value_of(name: str) -> str:
    """The TXT value (quoted, as Route 53 holds it) of actor ``name``'s challenge."""
    return '"' + challenge(TOKENS[name]).validation(ACCOUNT_KEY) + '"'


def authenticate(ctx: Any) -> None:
    """One certbot run: the plugin's perform, the CA's validation, the plugin's cleanup."""
    time.sleep(random.uniform(0, 30))  # started by cron, a timer, a deploy...
    achall = challenge(TOKENS[ctx.name])
    authenticator = Authenticator(SimpleNamespace(), "dns-route53")  # boto3.client("route53")
    authenticator.perform([achall])  # UPSERT, then GetChange every 5 s until INSYNC
    ctx.event("challenge-ready", value=value_of(ctx.name))
    time.sleep(random.uniform(5, 60))  # the CA looks the TXT record up
    ctx.event("cleanup-start")
    authenticator.cleanup([achall])  # DELETE (or UPSERT of what it still knows)


def challenge_served(view: Any) -> Failed | None:
    """While an authenticator waits for the CA, DNS serves its challenge value."""
    waiting: dict[str, str] = {}
    for e in view.history:
        if e["kind"] == "event" and e["event"] == "challenge-ready":
            waiting[e["actor"]] = e["value"]
        elif e["kind"] == "event" and e["event"] == "cleanup-start":
            waiting.pop(e["actor"], None)
    served = view.answer(NAME, "TXT")
    missing = [
        f"{actor}'s challenge {value} is not served while the CA validates it"
        f" ({removed_by(view.history, actor, value)})"
        for actor, value in sorted(waiting.items())
        if value not in served
    ]
    return Failed("; ".join(missing), (NAME,)) if missing else None


def removed_by(history: list[dict[str, Any]], owner: str, value: str) -> str:
    """Whose last applied change to NAME left ``value`` out."""
    last = None
    for call, _done in applied_changes(history):
        for text in call["params"].get("changes", []):
            action, name, _rtype, values = parse_change(text)
            if name.rstrip(".") + "." != NAME:
                continue
            if action == "DELETE" or value not in values:
                last = f"removed by {call['actor']}'s {action}"
            else:
                last = None
    return last or "not yet served"


def certbot_race() -> dnschaos.Simulation:
    sim = dnschaos.Simulation("certbot-race", duration=600, propagation_delay=30.0)
    sim.zone("example.com", records=[("www.example.com", "A", 300, ["192.0.2.1"])])
    sim.actor("apex", authenticate)
    sim.actor("wildcard", authenticate)
    sim.invariant(challenge_served, name="challenge-served")
    return sim
