#!/bin/sh
# A DNS-01 challenge hook around the AWS CLI, as ACME clients run them: publish the
# challenge value, wait until Route 53 says INSYNC, let the CA look it up, remove it.
# Two of these on one name (a certificate for example.com and *.example.com) race:
# each UPSERT replaces the other's value.
#   VALUE=token START=0 CA_SECONDS=20 ./hook.sh
set -eu
NAME=_acme-challenge.example.com
sleep "${START:-0}"
zone=$(aws route53 list-hosted-zones-by-name --dns-name example.com \
  --query 'HostedZones[0].Id' --output text)
batch() {
  printf '{"Changes":[{"Action":"%s","ResourceRecordSet":{"Name":"%s",' "$1" "$NAME"
  printf '"Type":"TXT","TTL":60,"ResourceRecords":[{"Value":"\\"%s\\""}]}}]}' "$VALUE"
}
id=$(aws route53 change-resource-record-sets --hosted-zone-id "$zone" \
  --change-batch "$(batch UPSERT)" --query ChangeInfo.Id --output text)
aws route53 wait resource-record-sets-changed --id "$id"
sleep "${CA_SECONDS:-20}"
# The record may hold another hook's value by now: then this DELETE fails, as it does
# for real hooks, and the hook says so.
aws route53 change-resource-record-sets --hosted-zone-id "$zone" \
  --change-batch "$(batch DELETE)" --output text > /dev/null || echo "cleanup failed" >&2
