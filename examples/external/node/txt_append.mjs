// Add this process's value to a TXT record with the JavaScript SDK's Route 53 client:
// read it, append, UPSERT, poll GetChange until INSYNC. Run by dnschaos as a separate
// process (see ../node_race.toml); the SDK finds the gate through AWS_ENDPOINT_URL.
//
//   node txt_append.mjs _tally.example.com. node
import {
  Route53Client,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
} from "@aws-sdk/client-route-53";

// A wait on the run's virtual clock: the gate sleeps for the process (outside a
// dnschaos run, a plain timer).
async function sleep(seconds) {
  const gate = process.env.DNSCHAOS_GATE;
  if (!gate) return new Promise((done) => setTimeout(done, seconds * 1000));
  await fetch(`${gate}/__dnschaos__/sleep`, { method: "POST", body: String(seconds) });
}

const [name, value] = process.argv.slice(2);
const route53 = new Route53Client({});
const zones = await route53.send(new ListHostedZonesByNameCommand({ DNSName: "example.com" }));
const zone = zones.HostedZones[0].Id;
const found = await route53.send(
  new ListResourceRecordSetsCommand({
    HostedZoneId: zone,
    StartRecordName: name,
    StartRecordType: "TXT",
    MaxItems: 1,
  }),
);
const values = found.ResourceRecordSets.filter((s) => s.Name === name && s.Type === "TXT")
  .flatMap((s) => s.ResourceRecords.map((r) => r.Value));
values.push(`"${value}"`);
const change = await route53.send(
  new ChangeResourceRecordSetsCommand({
    HostedZoneId: zone,
    ChangeBatch: {
      Changes: [
        {
          Action: "UPSERT",
          ResourceRecordSet: {
            Name: name,
            Type: "TXT",
            TTL: 60,
            ResourceRecords: values.map((v) => ({ Value: v })),
          },
        },
      ],
    },
  }),
);
let status = change.ChangeInfo.Status;
while (status !== "INSYNC") {
  await sleep(5);
  status = (await route53.send(new GetChangeCommand({ Id: change.ChangeInfo.Id }))).ChangeInfo.Status;
}
console.log(`${value}: ${values.length} values, INSYNC at ${Math.round(Date.now() / 1000)}`);
