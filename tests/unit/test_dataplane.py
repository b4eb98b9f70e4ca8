"""The Route 53 data-plane rules, one test each: what a name server answers from zone records."""

from __future__ import annotations

import random
from collections import Counter

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.adapters.dnsserve.dataplane import (
    MAX_ALIAS_DEPTH,
    Answer,
    DataPlane,
    FlatRecord,
    Rcode,
    Zone,
    answer,
    flatten,
    negative_ttl,
    possible_addresses,
)
from dnschaos.adapters.route53.models import AliasTarget, RRSet
from dnschaos.sim.clock import ManualClock

ORIGIN = "svc.chaos.test."
ZONE_ID = "ZSVCCHAOSTEST"
PLAN = f"plan-1.{ORIGIN}"
LB_A = f"lb-a.{ORIGIN}"
LB_B = f"lb-b.{ORIGIN}"
ADDR_A = ("192.0.2.10",)
ADDR_B = ("192.0.2.20", "192.0.2.21")
SOA_TTL = 900
SOA_MINIMUM = 300


def soa(ttl: int = SOA_TTL, minimum: int = SOA_MINIMUM) -> RRSet:
    return RRSet(
        ORIGIN,
        "SOA",
        ttl=ttl,
        values=(f"ns-1.awsdns-01.org. hostmaster.chaos.test. 1 7200 900 1209600 {minimum}",),
    )


def apex() -> list[RRSet]:
    return [soa(), RRSet(ORIGIN, "NS", ttl=172800, values=("ns-1.awsdns-01.org.",))]


def alias(name: str, target: str, set_id: str | None = None, weight: int | None = None) -> RRSet:
    return RRSet(
        name,
        "A",
        set_identifier=set_id,
        weight=weight,
        alias=AliasTarget(ZONE_ID, target, False),
    )


def leaf(name: str, values: tuple[str, ...], ttl: int = 60) -> RRSet:
    return RRSet(name, "A", ttl=ttl, values=values)


def weighted_zone(weight_a: int = 1, weight_b: int = 1) -> list[RRSet]:
    """Root alias -> plan record (a weighted set of aliases) -> two leaves with A values."""
    return [
        *apex(),
        alias(ORIGIN, PLAN),
        alias(PLAN, LB_A, "lb-a", weight_a),
        alias(PLAN, LB_B, "lb-b", weight_b),
        leaf(LB_A, ADDR_A, ttl=60),
        leaf(LB_B, ADDR_B, ttl=30),
    ]


def shares(records: list[RRSet], name: str, draws: int, seed: int) -> Counter[tuple[str, ...]]:
    rng = random.Random(seed)
    return Counter(answer(records, name, "A", rng).addresses for _ in range(draws))


def query(name: str, rtype: str = "A") -> dns.message.Message:
    return dns.message.make_query(name, rtype, use_edns=False)


def soa_in_authority(response: dns.message.Message) -> tuple[int, str]:
    (rrset,) = response.authority
    assert rrset.rdtype == dns.rdatatype.SOA
    assert rrset.name.to_text() == ORIGIN
    (rdata,) = list(rrset)
    return rrset.ttl, rdata.to_text()


# --------------------------------------------------------------------------- 1. aliases


def test_alias_chains_within_the_zone_are_followed_to_a_leaf() -> None:
    records = weighted_zone()
    rng = random.Random(1)
    seen: set[Answer] = set()
    for _ in range(200):
        got = answer(records, ORIGIN, "A", rng)
        assert got.rcode == Rcode.NOERROR
        # Exactly one leaf's addresses, with that leaf's TTL (an alias has none of its own).
        assert (got.addresses, got.ttl) in {(ADDR_A, 60), (ADDR_B, 30)}
        seen.add(got)
    assert {s.addresses for s in seen} == {ADDR_A, ADDR_B}
    assert possible_addresses(records, ORIGIN, "A") == frozenset(ADDR_A + ADDR_B)

    # Two plain hops: www -> mid -> lb-a; names are case-insensitive and may lack the dot.
    chain = [*apex(), alias(f"www.{ORIGIN}", f"mid.{ORIGIN}"), alias(f"mid.{ORIGIN}", LB_A)]
    chain.append(leaf(LB_A, ADDR_A, ttl=45))
    got = answer(chain, "WWW.Svc.Chaos.Test", "A", random.Random(2))
    assert got == Answer(Rcode.NOERROR, ADDR_A, 45)
    assert possible_addresses(chain, f"www.{ORIGIN}", "A") == frozenset(ADDR_A)


def test_alias_loops_and_overlong_chains_answer_nodata() -> None:
    loop = [*apex(), alias(f"a.{ORIGIN}", f"b.{ORIGIN}"), alias(f"b.{ORIGIN}", f"a.{ORIGIN}")]
    assert answer(loop, f"a.{ORIGIN}", "A", random.Random(3)) == Answer(Rcode.NOERROR, ())
    assert possible_addresses(loop, f"a.{ORIGIN}", "A") == frozenset()

    def chain(hops: int) -> list[RRSet]:
        names = [f"h{i}.{ORIGIN}" for i in range(hops + 1)]
        out = [*apex(), *(alias(names[i], names[i + 1]) for i in range(hops))]
        return [*out, leaf(names[-1], ADDR_A)]

    deepest = chain(MAX_ALIAS_DEPTH)
    assert answer(deepest, f"h0.{ORIGIN}", "A", random.Random(4)).addresses == ADDR_A
    too_deep = chain(MAX_ALIAS_DEPTH + 1)
    assert answer(too_deep, f"h0.{ORIGIN}", "A", random.Random(4)).empty
    assert possible_addresses(too_deep, f"h0.{ORIGIN}", "A") == frozenset()


# --------------------------------------------------------------------------- 2. weights


def test_weighted_sets_answer_in_proportion_to_weight() -> None:
    draws = 8000
    counts = shares(weighted_zone(weight_a=3, weight_b=1), ORIGIN, draws, seed=11)
    assert set(counts) == {ADDR_A, ADDR_B}
    assert abs(counts[ADDR_A] / draws - 0.75) <= 0.03


def test_weight_zero_members_answer_only_when_every_member_is_zero() -> None:
    counts = shares(weighted_zone(weight_a=0, weight_b=1), ORIGIN, 2000, seed=12)
    assert counts == Counter({ADDR_B: 2000})
    assert possible_addresses(weighted_zone(0, 1), ORIGIN, "A") == frozenset(ADDR_B)

    # All zero: every member answers, about equally.
    lb_c = f"lb-c.{ORIGIN}"
    records = [*weighted_zone(0, 0), alias(PLAN, lb_c, "lb-c", 0), leaf(lb_c, ("192.0.2.30",))]
    draws = 3000
    counts = shares(records, ORIGIN, draws, seed=13)
    assert set(counts) == {ADDR_A, ADDR_B, ("192.0.2.30",)}
    for n in counts.values():
        assert abs(n / draws - 1 / 3) <= 0.05
    assert possible_addresses(records, ORIGIN, "A") == frozenset({*ADDR_A, *ADDR_B, "192.0.2.30"})


def test_the_same_seed_gives_the_same_picks() -> None:
    records = weighted_zone()
    rng_a, rng_b, rng_c = random.Random(5), random.Random(5), random.Random(6)
    first = [answer(records, ORIGIN, "A", rng_a).addresses for _ in range(64)]
    again = [answer(records, ORIGIN, "A", rng_b).addresses for _ in range(64)]
    other = [answer(records, ORIGIN, "A", rng_c).addresses for _ in range(64)]
    assert first == again
    assert first != other


# --------------------------------------------------------------------------- 3-4. negatives


def test_alias_to_a_deleted_plan_answers_nodata() -> None:
    records = [r for r in weighted_zone() if r.name != PLAN]
    got = answer(records, ORIGIN, "A", random.Random(7))
    assert got.rcode == Rcode.NOERROR
    assert got.addresses == ()
    assert got.empty
    assert possible_addresses(records, ORIGIN, "A") == frozenset()
    # The leaves themselves still answer.
    assert answer(records, LB_A, "A", random.Random(7)).addresses == ADDR_A


def test_missing_names_are_nxdomain_and_empty_non_terminals_are_nodata() -> None:
    records = [*weighted_zone(), leaf(f"x.deep.{ORIGIN}", ("192.0.2.99",))]
    rng = random.Random(8)
    assert answer(records, f"nothing.{ORIGIN}", "A", rng) == Answer(Rcode.NXDOMAIN, ())
    # A name below an existing leaf that does not exist itself is NXDOMAIN too.
    assert answer(records, f"sub.{LB_A}", "A", rng).rcode == Rcode.NXDOMAIN
    # "deep" owns nothing but has a name below it: it exists, with no records.
    assert answer(records, f"deep.{ORIGIN}", "A", rng) == Answer(Rcode.NOERROR, ())
    assert answer(records, f"x.deep.{ORIGIN}", "A", rng).addresses == ("192.0.2.99",)
    # A name that exists but has no record of the asked type: NODATA.
    assert answer(records, LB_A, "AAAA", rng) == Answer(Rcode.NOERROR, ())
    # A suffix that is not a label boundary does not make a name exist.
    assert answer(records, f"eep.{ORIGIN}", "A", rng).rcode == Rcode.NXDOMAIN


# --------------------------------------------------------------------------- 5. negative TTL


def test_negative_ttl_is_the_lower_of_soa_ttl_and_minimum() -> None:
    assert negative_ttl([soa(ttl=900, minimum=300)], ORIGIN) == 300
    assert negative_ttl([soa(ttl=60, minimum=300)], ORIGIN) == 60
    assert negative_ttl([soa(ttl=120, minimum=120)], ORIGIN) == 120
    # Only the zone's own SOA counts; without one there is nothing to cache by.
    assert negative_ttl([soa()], f"other.{ORIGIN}") == 0
    assert negative_ttl([], ORIGIN) == 0


# --------------------------------------------------------------------------- 6. flatten


def test_flatten_gives_real_servers_plain_record_sets() -> None:
    txt = RRSet(f"_meta.{ORIGIN}", "TXT", ttl=10, values=('"generation=7"',))
    records = [*weighted_zone(), txt]
    flat = flatten(records, ORIGIN.rstrip("."))
    # The weighted set over two leaves: every address, lowest TTL on the way.
    assert flat[(ORIGIN, "A")] == FlatRecord(30, tuple(sorted(ADDR_A + ADDR_B)))
    assert flat[(PLAN, "A")] == FlatRecord(30, tuple(sorted(ADDR_A + ADDR_B)))
    assert flat[(LB_A, "A")] == FlatRecord(60, ADDR_A)
    assert flat[(f"_meta.{ORIGIN}", "TXT")] == FlatRecord(10, ('"generation=7"',))
    # SOA and NS belong to the real server's own zone file; no AAAA exists anywhere.
    assert {rtype for _name, rtype in flat} == {"A", "TXT"}

    # Weight 0 members are left out while a live member exists.
    assert flatten(weighted_zone(0, 1), ORIGIN)[(ORIGIN, "A")] == FlatRecord(30, ADDR_B)

    gone = [r for r in records if r.name != PLAN]
    flat_gone = flatten(gone, ORIGIN)
    assert (ORIGIN, "A") not in flat_gone
    assert (PLAN, "A") not in flat_gone
    assert flat_gone[(LB_B, "A")] == FlatRecord(30, ADDR_B)
    assert flat_gone[(f"_meta.{ORIGIN}", "TXT")] == FlatRecord(10, ('"generation=7"',))


# --------------------------------------------------------------------------- 7. PENDING


def test_pending_changes_are_invisible_to_dns_until_insync() -> None:
    clock = ManualClock()
    www = f"www.{ORIGIN}"
    with open_target(TargetSpec("moto"), clock=clock, propagation_delay=60, seed=1) as aws:
        route53 = aws.client("route53")
        created = route53.create_hosted_zone(Name=ORIGIN, CallerReference="dataplane-pending")
        zone_id = created["HostedZone"]["Id"].split("/")[-1]
        strict = aws.strict_route53()
        plane = DataPlane({ORIGIN: lambda: strict.visible_records(zone_id)}, random.Random(1))
        changes = [
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": name,
                    "Type": "A",
                    "TTL": 60,
                    "ResourceRecords": [{"Value": "192.0.2.44"}],
                },
            }
            for name in (ORIGIN, www)
        ]
        info = route53.change_resource_record_sets(
            HostedZoneId=zone_id, ChangeBatch={"Changes": changes}
        )["ChangeInfo"]
        assert info["Status"] == "PENDING"

        def status() -> str:
            return str(route53.get_change(Id=info["Id"])["ChangeInfo"]["Status"])

        def has_apex_a(records: list[RRSet]) -> bool:
            return any(r.name == ORIGIN and r.type == "A" for r in records)

        assert has_apex_a(strict.records(zone_id))  # the control API reads its own writes
        for _ in range(2):  # at submission and one second before the delay is over
            assert status() == "PENDING"
            assert not has_apex_a(strict.visible_records(zone_id))
            before = plane.respond(query(ORIGIN))
            assert before.rcode() == dns.rcode.NOERROR
            assert before.answer == []
            soa_ttl, _ = soa_in_authority(before)
            assert soa_ttl == negative_ttl(strict.visible_records(zone_id), ORIGIN)
            # The new name does not exist yet for DNS clients.
            assert plane.respond(query(www)).rcode() == dns.rcode.NXDOMAIN
            clock.sleep(59)

        clock.sleep(1)  # 60 s after submission in total
        assert status() == "INSYNC"
        assert has_apex_a(strict.visible_records(zone_id))
        for name in (ORIGIN, www):
            after = plane.respond(query(name))
            assert after.rcode() == dns.rcode.NOERROR
            (rrset,) = after.answer
            assert [r.to_text() for r in rrset] == ["192.0.2.44"]
            assert rrset.ttl == 60
            assert after.authority == []


# --------------------------------------------------------------------------- 8. respond


def test_respond_refuses_foreign_zones_and_is_authoritative_for_its_own() -> None:
    records = weighted_zone(weight_a=1, weight_b=0)
    child = f"child.{ORIGIN}"
    child_soa = RRSet(child, "SOA", ttl=5, values=("ns. child. 1 2 3 4 5",))
    plane = DataPlane(
        {ORIGIN: lambda: records, child.upper(): lambda: [child_soa]},
        random.Random(9),
    )
    for foreign in ("example.org.", "chaos.test.", "xsvc.chaos.test."):
        refused = plane.respond(query(foreign))
        assert refused.rcode() == dns.rcode.REFUSED
        assert not refused.flags & dns.flags.AA
        assert refused.answer == []

    got = plane.respond(query(f"LB-A.{ORIGIN}"))
    assert got.rcode() == dns.rcode.NOERROR
    assert got.flags & dns.flags.AA
    assert got.flags & dns.flags.QR
    assert not got.flags & dns.flags.RA
    (rrset,) = got.answer
    assert rrset.ttl == 60
    assert [r.to_text() for r in rrset] == list(ADDR_A)

    # The apex through its alias chain; weight 0 never answers.
    apex_answer = plane.respond(query(ORIGIN))
    assert [[r.to_text() for r in s] for s in apex_answer.answer] == [list(ADDR_A)]

    # Plain types are answered as stored.
    soa_answer = plane.respond(query(ORIGIN, "SOA"))
    assert soa_answer.flags & dns.flags.AA
    assert [s.rdtype for s in soa_answer.answer] == [dns.rdatatype.SOA]

    # The most specific hosted zone answers: the child zone's own SOA, not the parent's.
    in_child = plane.respond(query(f"x.{child}"))
    assert in_child.rcode() == dns.rcode.NXDOMAIN
    assert in_child.flags & dns.flags.AA
    (child_auth,) = in_child.authority
    assert child_auth.name.to_text() == child
    assert child_auth.ttl == 5

    # Two questions in one message: FORMERR.
    two = query(ORIGIN)
    two.question.append(query(LB_A).question[0])
    assert plane.respond(two).rcode() == dns.rcode.FORMERR


def test_negative_responses_carry_the_soa_with_the_negative_ttl() -> None:
    records = [r for r in weighted_zone() if r.name != PLAN]
    plane = DataPlane({ORIGIN: lambda: records}, random.Random(10))
    expected_ttl = negative_ttl(records, ORIGIN)
    assert expected_ttl == SOA_MINIMUM  # lower than the SOA's own TTL of 900

    nodata = plane.respond(query(ORIGIN))
    assert nodata.rcode() == dns.rcode.NOERROR
    assert nodata.flags & dns.flags.AA
    assert nodata.answer == []
    ttl, text = soa_in_authority(nodata)
    assert ttl == expected_ttl
    assert text == soa().values[0]

    nxdomain = plane.respond(query(f"missing.{ORIGIN}"))
    assert nxdomain.rcode() == dns.rcode.NXDOMAIN
    assert nxdomain.answer == []
    assert soa_in_authority(nxdomain)[0] == expected_ttl

    # NODATA for a type the name lacks, too.
    txt = plane.respond(query(LB_A, "TXT"))
    assert txt.rcode() == dns.rcode.NOERROR
    assert txt.answer == []
    assert soa_in_authority(txt)[0] == expected_ttl

    # An answer with records carries no SOA.
    assert plane.respond(query(LB_A)).authority == []


def test_answers_built_once_are_handed_out_as_copies_that_follow_the_zone() -> None:
    """The record sets of answers are built from text once and copied after: what each
    answer holds is still exactly what the zone holds, in the question's case, and a
    caller that changes one answer changes no other."""
    records = [*apex(), leaf(LB_A, ADDR_A, ttl=60), leaf(LB_B, ADDR_B, ttl=30)]
    plane = DataPlane({ORIGIN: lambda: records}, random.Random(11))

    first = plane.respond(query(LB_B))
    first.answer[0].ttl = 1  # a caller meddling with its own answer
    first.answer[0].clear()
    again = plane.respond(query(LB_B))
    (rrset,) = again.answer
    assert rrset.ttl == 30
    assert sorted(r.to_text() for r in rrset) == sorted(ADDR_B)

    # Names compare without case, but each answer repeats its question's spelling.
    upper = plane.respond(query(LB_B.upper()))
    assert upper.answer[0].name.to_text() == LB_B.upper()
    assert plane.respond(query(LB_B)).answer[0].name.to_text() == LB_B

    # A change of the zone (new TTL, new values) is answered, not the set built before.
    records[-1] = leaf(LB_B, ("192.0.2.99",), ttl=5)
    (changed,) = plane.respond(query(LB_B)).answer
    assert (changed.ttl, [r.to_text() for r in changed]) == (5, ["192.0.2.99"])

    # A value that does not read as an address fails every time it is asked for.
    records[-1] = leaf(LB_B, ("not-an-address",), ttl=5)
    for _ in range(2):
        try:
            plane.respond(query(LB_B))
        except dns.exception.SyntaxError:
            continue
        raise AssertionError("a bad value was answered")

    # The negative answer's SOA is copied too.
    nodata = plane.respond(query(LB_A, "TXT"))
    nodata.authority[0].ttl = 1
    assert soa_in_authority(plane.respond(query(LB_A, "TXT")))[0] == SOA_MINIMUM


def test_a_zone_found_out_of_order_is_served_in_record_set_order() -> None:
    """DNS reads the zone in ListResourceRecordSets order without sorting it per question:
    a zone the strict layer first finds in moto in another order is put in order once."""
    with open_target(TargetSpec("moto"), clock=ManualClock(), seed=1) as aws:
        strict = aws.strict_route53()
        zone = strict.backend.create_hosted_zone(ORIGIN, private_zone=False)
        for name in (f"zz.{ORIGIN}", LB_B, f"a.{ORIGIN}", LB_A):  # not in record-set order
            zone.add_rrset({"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": ["192.0.2.1"]})
        assert [r.name for r in zone.rrsets][-4:] != sorted([r.name for r in zone.rrsets][-4:])
        first = strict.visible_records(zone.id)
        assert first == strict.records(zone.id)
        assert first == sorted(first, key=RRSet.sort_key)
        plane = DataPlane({ORIGIN: lambda: strict.visible_records(zone.id)}, random.Random(1))
        assert [r.to_text() for r in plane.respond(query(LB_B)).answer[0]] == ["192.0.2.1"]


def test_a_zone_looks_up_what_scanning_its_records_finds() -> None:
    """Zone's lookups against the scans they replace, over names that end one another
    at a dot and elsewhere, escaped dots, several sets of one name and type, and names
    asked that are only suffixes of other names."""
    rng = random.Random(11)
    labels = ["a", "b", "ab", "x\\.y", "svc", "chaos", "test", ""]
    names = {"svc.chaos.test.", "chaos.test.", "test.", ".", "", "b.svc.chaos.test."}
    records = []
    for i in range(300):
        name = ".".join(rng.choice(labels) for _ in range(rng.randint(1, 4))) + rng.choice(
            [".svc.chaos.test.", ".test.", "", "."]
        )
        names.add(name)
        names.add(name[1:])
        rtype = rng.choice(["A", "AAAA", "TXT"])
        records.append(RRSet(name, rtype, ttl=i, values=(f"192.0.2.{i % 250}",)))
    zone = Zone(records)
    for name in sorted(names):
        want = any(r.name == name or r.name.endswith("." + name) for r in records)
        assert zone.exists(name) == want, name
        for rtype in ("A", "AAAA", "TXT", "MX"):
            assert list(zone.sets(name, rtype)) == [
                r for r in records if r.name == name and r.type == rtype
            ]


def test_a_data_plane_looks_each_served_version_up_once() -> None:
    """A tuple of records (the strict layer's served version) is looked up once and kept;
    a list, which its owner may change in place, is looked up every time."""
    served = tuple(weighted_zone())
    plane = DataPlane({ORIGIN: lambda: served}, random.Random(1))
    assert plane._zone(served) is plane._zone(served)
    listed = list(served)
    assert plane._zone(listed) is not plane._zone(listed)
