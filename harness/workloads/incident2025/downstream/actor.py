"""The downstream actor: EC2 and NLB react, tick by tick, to what DNS answers.

On every tick (a minute of virtual time by default) the actor:

1. asks DNS for the DynamoDB endpoint's name, as DWFM's resolvers would (a
   dnspython query to the run's authoritative server; a negative answer is
   cached for the resolvers' negative TTL): no addresses, no lease checks;
2. advances the model (``harness.downstream.model``): leases, launches, network
   propagation, NLB health checks and failover;
3. makes the launches the model placed as real ``RunInstances`` calls on moto's
   EC2, onto the droplet (a dedicated host) the model chose; a launch the model
   finds no capacity for fails the way EC2 fails it, with
   ``InsufficientInstanceCapacity``; instances behind the NLB are registered in
   its target group;
4. records a ``downstream`` sample in the history.

When DynamoDB's name still resolves ``race_by`` seconds into the run, the race
did not happen: the actor records ``downstream-no-race`` and the run ends,
rather than run the automation for the rest of a 15-hour event for nothing.

moto reports every target healthy; the elbv2 clients this module hands out ask
the model instead (``DescribeTargetHealth`` answers what the model decided).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import dns.exception
import dns.message
import dns.query
import dns.rdatatype

from dnschaos.history import History
from dnschaos.sim.clock import Clock
from dnschaos.workload import actor_of
from dnschaos.workloads.incident2025.downstream.model import CascadeConfig, Downstream, Instance

AZS: Final = ("us-east-1a", "us-east-1b", "us-east-1c")
IMAGE: Final = "ami-12c6146b"  # moto's default Amazon Linux image id


class _Refused:
    status_code = 500


def _insufficient(droplet: str) -> tuple[Any, dict[str, Any]]:
    return _Refused(), {
        "Error": {
            "Code": "InsufficientInstanceCapacity",
            "Message": f"We currently do not have sufficient capacity on {droplet or 'any droplet'} "
            "(no droplet with a live DWFM lease is free).",
        },
        "ResponseMetadata": {"HTTPStatusCode": 500},
    }


class DownstreamActor:
    def __init__(
        self,
        config: CascadeConfig,
        *,
        ec2: Any,
        elbv2: Any,
        clock: Clock,
        history: History,
        server: tuple[str, int],
        name: str,
        yield_point: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.ec2 = ec2
        self.elbv2 = elbv2
        self.clock = clock
        self.history = history
        self.server = server
        self.name = name  # the DynamoDB endpoint's name, as DWFM resolves it
        self.yield_point = yield_point
        self.model = Downstream(config, start=clock.now())
        self.hosts: dict[str, str] = {}  # model droplet -> EC2 dedicated host id
        self.instances: dict[str, str] = {}  # model instance -> EC2 instance id
        self.target_group = ""
        self._refuse: str | None = None
        self.no_race: str | None = None  # why the run can end: the race never happened
        self._went_dark = False  # DynamoDB was unreachable at some tick
        ec2.meta.events.register("before-call.ec2.RunInstances", self._capacity)
        watch_target_health(elbv2, self)

    # ------------------------------------------------------------------ set-up

    def provision(self) -> None:
        """Droplets as dedicated hosts, one VPC, an NLB and its target group."""
        per_az = -(-self.config.droplets // len(AZS))
        ids: list[str] = []
        for az in AZS:
            got = self.ec2.allocate_hosts(
                AvailabilityZone=az, InstanceType="m5.large", Quantity=per_az
            )
            ids += list(got["HostIds"])
        droplets = [d for h in self.model.hosts for d in h.droplets]
        self.hosts = dict(zip(droplets, ids, strict=False))
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)[
                "Subnet"
            ]["SubnetId"]
            for i, az in enumerate(AZS)
        ]
        self.elbv2.create_load_balancer(Name="ddb-clients", Type="network", Subnets=subnets)
        group = self.elbv2.create_target_group(
            Name="ddb-clients", Protocol="TCP", Port=80, VpcId=vpc, TargetType="instance"
        )
        self.target_group = group["TargetGroups"][0]["TargetGroupArn"]
        self.history.append(
            "downstream-setup",
            self.clock.now(),
            droplets=len(ids),
            dwfm_hosts=self.config.dwfm_hosts,
            mitigations=sorted(self.config.mitigations),
        )

    # ------------------------------------------------------------------ running

    def run(self, should_stop: Callable[[], bool]) -> None:
        self.provision()
        race_by = self.config.race_by
        while not should_stop():
            self.clock.sleep(self.config.tick)
            sample = self.tick()
            self._went_dark = self._went_dark or not sample["reachable"]
            waited = self.clock.now() - self.model.start
            if race_by is not None and not self._went_dark and waited >= race_by:
                self.no_race = (
                    f"no race: DynamoDB's name still resolved {race_by:.0f}s into the run, "
                    "so there is no cascade to watch (try another --seed)"
                )
                self.history.append("downstream-no-race", self.clock.now(), race_by=race_by)
                return

    def resolve(self) -> bool:
        if self.yield_point is not None:
            self.yield_point(f"dns dwfm A {self.name}")
        now = self.clock.now()
        if now < self.model.resolver_empty_until:
            return False  # the resolver still holds the negative answer
        query = dns.message.make_query(self.name, "A")
        try:
            answer = dns.query.udp(query, self.server[0], port=self.server[1], timeout=2.0)
        except (dns.exception.Timeout, OSError):
            return False
        addresses = any(rr.rdtype == dns.rdatatype.A and len(rr) for rr in answer.answer)
        ttl = next((rr.ttl for rr in answer.authority if rr.rdtype == dns.rdatatype.SOA), None)
        negative = float(ttl) if ttl else self.config.resolver_negative_ttl
        return self.model.resolved(now, addresses, negative_ttl=max(negative, 0.0))

    def tick(self) -> dict[str, Any]:
        reachable = self.resolve()
        sample = self.model.advance(self.clock.now(), reachable, launch=self._launch)
        self.history.append("downstream", self.clock.now(), **sample)
        return sample

    def _launch(self, inst: Instance) -> bool:
        from botocore.exceptions import ClientError

        host = self.hosts.get(inst.droplet)
        self._refuse = None if host else inst.droplet
        try:
            got = self.ec2.run_instances(
                ImageId=IMAGE,
                InstanceType="m5.large",
                MinCount=1,
                MaxCount=1,
                Placement={"HostId": host or "h-none", "AvailabilityZone": AZS[inst.az]},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "InsufficientInstanceCapacity":
                raise
            return False
        instance_id = got["Instances"][0]["InstanceId"]
        self.instances[inst.name] = instance_id
        if inst.nlb:
            self.elbv2.register_targets(
                TargetGroupArn=self.target_group, Targets=[{"Id": instance_id}]
            )
        return True

    def _capacity(self, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if self._refuse is None:
            return None
        return _insufficient(self._refuse)

    def health_of(self, instance_id: str) -> tuple[str, str | None]:
        """What the model says of one NLB target: (state, reason)."""
        inst = next(
            (i for i in self.model.instances if self.instances.get(i.name) == instance_id), None
        )
        if inst is None:
            return "unused", "Target.NotRegistered"
        if inst.az in self.model.failed_over:
            return "unavailable", "Target.HealthCheckDisabled"
        if not inst.networked:
            return "unhealthy", "Target.FailedHealthChecks"
        return "healthy", None


def watch_target_health(elbv2: Any, actor: DownstreamActor) -> None:
    """Make ``DescribeTargetHealth`` on this client answer what the model decided."""

    def rewrite(parsed: dict[str, Any], **_: Any) -> None:
        for desc in parsed.get("TargetHealthDescriptions", []):
            state, reason = actor.health_of(desc["Target"]["Id"])
            health: dict[str, Any] = {"State": state}
            if reason:
                health["Reason"] = reason
            desc["TargetHealth"] = health

    elbv2.meta.events.register("after-call.elastic-load-balancing-v2.DescribeTargetHealth", rewrite)


@actor_of("incident-2025")
def downstream(config: CascadeConfig) -> Callable[[Any], None]:
    """The downstream models (DWFM, EC2 launches, NLB health checks) as an actor: they
    resolve the DynamoDB endpoint through the run's authoritative server. A run whose
    race never happened ends when the model says so."""

    def run(ctx: Any) -> None:
        parts = ctx.parts
        stack = parts.dns
        if stack is None:
            raise ValueError("the downstream models need DNS in the run: add a [dns] section")
        actor = DownstreamActor(
            config,
            ec2=ctx.client("ec2"),
            elbv2=ctx.client("elbv2"),
            clock=ctx.clock,
            history=ctx.history,
            server=(stack.authoritative.host, stack.authoritative.port),
            name=ctx.workload("incident-2025").endpoints[0].fqdn,
            yield_point=parts.driver.yield_point if parts.driver.virtual else None,
        )
        ctx.end_when(lambda: None if actor.no_race is None else str(actor.no_race))
        actor.run(ctx.should_stop)

    return run
