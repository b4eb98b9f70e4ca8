"""moto's answers serialized on the fast path are moto's own, byte for byte.

On the fast path what moto's serializer works out for each member of an answer (the
attribute names to try, the response transformer that applies) is worked out once
per member, class and shape (``moto_serialize``). Here the
same model objects (EC2 reservations, images, VPCs, an ELBv2 load balancer and target
group) are serialized with the fast path on (the names remembered, then read back) and
off (moto's alias rules every time), and the bodies must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dnschaos.adapters.aws import moto_serialize
from dnschaos.adapters.aws import target as aws
from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.sim.clock import ManualClock


@pytest.fixture
def models() -> Iterator[list[tuple[str, str, str, Any]]]:
    """(service, protocol, operation, result) for answers of several shapes."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends
    from moto.elbv2.models import elbv2_backends

    aws.set_fast_path(True)
    try:
        with open_target(TargetSpec("moto"), clock=ManualClock(), seed=3) as target:
            ec2, elbv2 = target.client("ec2"), target.client("elbv2")
            image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            host = ec2.allocate_hosts(
                AvailabilityZone="us-east-1a", InstanceType="m5.large", Quantity=1
            )["HostIds"][0]
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
            ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3)
            ec2.run_instances(
                ImageId=image,
                InstanceType="m5.large",
                MinCount=1,
                MaxCount=1,
                Placement={"HostId": host, "AvailabilityZone": "us-east-1a"},
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "k", "Value": 'a "quoted" <v>'}]}
                ],
            )
            ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet)
            elbv2.create_load_balancer(Name="lb", Type="network", Subnets=[subnet])
            elbv2.create_target_group(
                Name="tg", Protocol="TCP", Port=80, VpcId=vpc, TargetType="instance"
            )
            be = ec2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
            lbs = elbv2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
            results: list[tuple[str, str, str, Any]] = [
                ("ec2", "ec2", "RunInstances", r) for r in be.reservations.values()
            ]
            results.append(("ec2", "ec2", "DescribeVpcs", {"Vpcs": list(be.vpcs.values())}))
            results.append(
                ("ec2", "ec2", "DescribeImages", {"Images": list(be.amis.values())[:50]})
            )
            results.append(
                (
                    "elbv2",
                    "query",
                    "DescribeLoadBalancers",
                    {"LoadBalancers": list(lbs.load_balancers.values())},
                )
            )
            results.append(
                (
                    "elbv2",
                    "query",
                    "DescribeTargetGroups",
                    {"TargetGroups": list(lbs.target_groups.values())},
                )
            )
            yield results
    finally:
        aws.set_fast_path(None)


def _transformers(service: str) -> dict[str, Any]:
    """The service's response transformers, the table moto's handler hands its picker
    (none for a service without one, such as Route 53)."""
    from moto.ec2.responses import EC2Response
    from moto.elbv2.responses import ELBV2Response

    handler = {"ec2": EC2Response, "elbv2": ELBV2Response}.get(service)
    table: dict[str, Any] = handler.RESPONSE_KEY_PATH_TO_TRANSFORMER if handler else {}
    return table


def _body(service: str, protocol: str, operation: str, result: Any) -> str:
    """The body moto's handler would send: its serializer, its picker, its transformers."""
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    model = get_service_model(service).operation_model(operation)
    picker = XFormedAttributePicker(response_transformers=_transformers(service))
    serializer = get_serializer_class(service, protocol)(operation_model=model, value_picker=picker)
    return str(serializer.serialize(result)["body"])


def _shapes(models: list[tuple[str, str, str, Any]]) -> list[Any]:
    """Every shape of the models' output shapes (moto loads each service model once)."""
    from moto.core.utils import get_service_model

    seen: dict[int, Any] = {}
    todo = [get_service_model(m[0]).operation_model(m[2]).output_shape for m in models]
    while todo:
        shape = todo.pop()
        if shape is None or id(shape) in seen:
            continue
        seen[id(shape)] = shape
        todo.extend(getattr(shape, "members", {}).values())
        todo.extend(getattr(shape, name, None) for name in ("member", "key", "value"))
    return list(seen.values())


def _forget(models: list[tuple[str, str, str, Any]]) -> list[Any]:
    shapes = _shapes(models)
    for shape in shapes:
        shape.__dict__.pop(moto_serialize.NAMES, None)
    return shapes


def _remembered(shapes: list[Any]) -> int:
    return sum(len(shape.__dict__.get(moto_serialize.NAMES, {})) for shape in shapes)


def test_answers_are_the_same_with_the_alias_names_remembered(
    models: list[tuple[str, str, str, Any]],
) -> None:
    aws.set_fast_path(False)
    moto = [_body(*m) for m in models]
    aws.set_fast_path(True)
    shapes = _forget(models)
    first = [_body(*m) for m in models]  # the names worked out and remembered
    assert _remembered(shapes), "the fast path remembers the names"
    again = [_body(*m) for m in models]  # and read back
    for (service, _, operation, _), want, got, got_again in zip(
        models, moto, first, again, strict=True
    ):
        assert got == want, (service, operation)
        assert got_again == want, (service, operation)
    assert any("quoted" in body for body in moto)


def test_off_the_fast_path_moto_works_the_names_out_itself(
    models: list[tuple[str, str, str, Any]],
) -> None:
    aws.set_fast_path(False)
    shapes = _forget(models[:1])
    _body(*models[0])
    assert not _remembered(shapes)


def test_what_is_remembered_goes_with_the_shapes_of_an_error() -> None:
    """moto makes an error's shapes anew for each error: the names worked out for them
    must go with them, not pile up for the run (a long run answers thousands of errors)."""
    import gc

    from botocore.model import Shape

    from dnschaos.adapters.route53.errors import StrictRoute53Error

    moto_serialize.install(aws.fast_path)  # as opening a moto target does (once)

    def answer() -> str:
        error = StrictRoute53Error("InvalidChangeBatch", "[Tried to delete a record set]")
        return _body("route53", "rest-xml", "ChangeResourceRecordSets", error)

    def alive() -> int:
        """Shapes of the error alive now (those of the service model do not change)."""
        gc.collect()
        names = {"InvalidChangeBatch", "ErrorMessages", "ErrorMessage"}
        return sum(1 for o in gc.get_objects() if isinstance(o, Shape) and o.name in names)

    aws.set_fast_path(False)
    want = answer()
    aws.set_fast_path(True)
    try:
        assert answer() == want
        after_few = alive()
        for _ in range(40):
            assert answer() == want
        assert alive() == after_few
    finally:
        aws.set_fast_path(None)


def test_the_names_depend_on_the_member_s_shape_not_only_its_name(
    models: list[tuple[str, str, str, Any]],
) -> None:
    """Plain dicts hold both answers here: an instance's ``State`` (a structure, which
    moto also looks up as ``InstanceState``) and a VPC's ``State`` (a string) are the same
    member of the same class under two shapes, so each must be worked out for its own."""
    instances = {
        "Reservations": [
            {
                "ReservationId": "r-1",
                "Instances": [{"InstanceId": "i-1", "State": {"Code": 16, "Name": "running"}}],
            }
        ]
    }
    vpcs = {"Vpcs": [{"VpcId": "vpc-1", "State": "available", "InstanceState": "not read"}]}
    asked = [("ec2", "ec2", "DescribeInstances", instances), ("ec2", "ec2", "DescribeVpcs", vpcs)]
    aws.set_fast_path(False)
    moto = [_body(*m) for m in asked]
    aws.set_fast_path(True)
    _forget(asked)
    assert [_body(*m) for m in asked] == moto
    assert "not read" not in moto[1] and "available" in moto[1]


def test_a_transformer_added_at_run_time_applies_from_the_next_answer(
    models: list[tuple[str, str, str, Any]],
) -> None:
    """moto's EC2 adds response transformers while it runs; the next answer uses them."""
    launch = next(m for m in models if m[2] == "RunInstances")
    table = _transformers("ec2")
    path = "RunInstances.Reservation.Instances.Instance.InstanceType"
    assert path not in table
    aws.set_fast_path(True)
    before = _body(*launch)
    table[path] = lambda _: "x9.transformed"
    try:
        after = _body(*launch)
        aws.set_fast_path(False)
        assert after == _body(*launch)
        # Two whose paths end the member's: the first in the table applies.
        del table[path]
        table["Instance.InstanceType"] = lambda _: "x9.first"
        table[path] = lambda _: "x9.second"
        both = _body(*launch)
        assert "x9.first" in both
        aws.set_fast_path(True)
        assert _body(*launch) == both
    finally:
        table.pop(path, None)
        table.pop("Instance.InstanceType", None)
    assert "x9.transformed" in after and "x9.transformed" not in before
    aws.set_fast_path(True)
    assert _body(*launch) == before
    # moto's own transformers apply: a launch's instance is "pending" in its answer.
    assert "<name>pending</name>" in before


def test_the_xml_writer_writes_what_xmltodict_writes() -> None:
    """moto's XML answers are written in one pass on the fast path: for any document the
    same text as ``xmltodict.unparse``, or xmltodict's own error (it writes those)."""
    import xmltodict
    from hypothesis import given, settings
    from hypothesis import strategies as st

    writer = moto_serialize._Writer(xmltodict, lambda: True)
    names = st.one_of(
        st.sampled_from(["Item", "instanceId", "a", "_x", "a.b-c", "@attr", "#text", "#comment"]),
        st.text(min_size=0, max_size=6),  # anything: '<', spaces, ':' and the empty name
        st.integers(),
    )
    leaves = st.one_of(
        st.none(),
        st.text(max_size=12),  # '&', '<', '>', quotes, control characters, surrogates...
        st.booleans(),
        st.integers(),
        st.floats(),
        st.binary(max_size=4),
        st.just(()),
        st.just([]),
    )
    documents = st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.tuples(inner, inner),
            st.dictionaries(names, inner, max_size=4),
        ),
        max_leaves=12,
    )

    def written(fn: Any, doc: Any, **kwargs: Any) -> tuple[str, Any]:
        try:
            return ("text", fn(doc, **kwargs))
        except Exception as exc:
            return ("error", type(exc))

    @settings(max_examples=2000, deadline=None, database=None)
    @given(
        doc=st.dictionaries(names, documents, min_size=0, max_size=2),
        full=st.booleans(),
        short=st.booleans(),
    )
    def same(doc: Any, full: bool, short: bool) -> None:
        kwargs = {"full_document": full, "short_empty_elements": short, "pretty": False}
        assert written(writer.unparse, doc, **kwargs) == written(xmltodict.unparse, doc, **kwargs)

    same()

    # Documents of the kind moto writes are written here, not handed to xmltodict.
    plain_names = st.sampled_from(["Item", "instanceId", "a", "_x", "a.b-c", "Z9", "@xmlns", "@a"])
    leaf = st.one_of(st.none(), st.text(max_size=12), st.booleans(), st.integers(), st.floats())
    node = st.recursive(
        leaf,
        lambda inner: st.dictionaries(
            plain_names, st.one_of(inner, st.lists(inner, max_size=3)), max_size=4
        ).filter(lambda d: all(type(v) is str or v is None for k, v in d.items() if k[0] == "@")),
        max_leaves=12,
    )
    plain = st.one_of(node, st.lists(node, max_size=3))  # an element, or several of one name

    @settings(max_examples=2000, deadline=None, database=None)
    @given(
        doc=st.dictionaries(plain_names.filter(lambda n: n[0] != "@"), plain, max_size=3),
        short=st.booleans(),
    )
    def written_here(doc: Any, short: bool) -> None:
        kwargs = {"full_document": False, "short_empty_elements": short}
        assert moto_serialize.unparse(doc, **kwargs) == xmltodict.unparse(doc, **kwargs)

    written_here()
