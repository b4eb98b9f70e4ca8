"""moto takes no lock of its own; the harness serialises in-process requests."""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError

from dnschaos.adapters.aws.target import TargetSpec, open_target
from dnschaos.sim.clock import ManualClock

THREADS = 4
INCREMENTS = 25


def test_conditional_updates_from_four_threads_lose_nothing() -> None:
    with open_target(TargetSpec("moto"), clock=ManualClock()) as target:
        ddb = target.client("dynamodb")
        ddb.create_table(
            TableName="counter",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="counter", Item={"k": {"S": "c"}, "n": {"N": "0"}})
        winners: dict[int, list[int]] = {}
        lock = threading.Lock()

        def worker(me: int) -> None:
            client = target.client("dynamodb", actor=f"t{me}")
            done = 0
            while done < INCREMENTS:
                n = int(
                    client.get_item(TableName="counter", Key={"k": {"S": "c"}})["Item"]["n"]["N"]
                )
                try:
                    client.update_item(
                        TableName="counter",
                        Key={"k": {"S": "c"}},
                        UpdateExpression="SET n = :new",
                        ConditionExpression="n = :old",
                        ExpressionAttributeValues={
                            ":old": {"N": str(n)},
                            ":new": {"N": str(n + 1)},
                        },
                    )
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
                    continue
                with lock:
                    winners.setdefault(n, []).append(me)
                done += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        final = int(ddb.get_item(TableName="counter", Key={"k": {"S": "c"}})["Item"]["n"]["N"])
    assert final == THREADS * INCREMENTS, "an update was lost"
    assert all(len(w) == 1 for w in winners.values()), "two threads won one conditional write"
