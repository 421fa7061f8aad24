#!/usr/bin/env python3
"""Can moto run the PartiQL writes a batched state write would need?

The handler writes each service of a queued batch with its own conditional PutItem.
One call for the whole batch at the normal write price, each item still conditional,
exists only as PartiQL's BatchExecuteStatement: an INSERT for a new service's item
(DynamoDB answers DuplicateItem when it exists) and an UPDATE ... WHERE pk = ? AND
sk = ? AND rev = ? for the others (ConditionalCheckFailed when the revision moved).
The project tests every AWS call against moto, so this checks, statement by
statement, whether the installed moto runs those statements as DynamoDB documents
them. Run it with the project's virtualenv: `.venv/bin/python scripts/moto-partiql.py`.
It prints one line per check and exits 1 when any check fails.
"""

import sys

import boto3
from moto import mock_aws

TABLE = "state"
KEY = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRS = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]


def item(pk, rev, state):
    return {"pk": {"S": pk}, "sk": {"S": "service"}, "rev": {"N": str(rev)}, "state": {"S": state}}


def run(client, statements):
    """The per-statement responses, or the exception the whole call raised."""
    try:
        return client.batch_execute_statement(Statements=statements)["Responses"]
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        return f"{type(e).__name__}: {e}".strip()


def stored(client, pk):
    got = client.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": "service"}})
    return got.get("Item")


def error_code(responses):
    if isinstance(responses, str):
        return responses
    return (responses[0].get("Error") or {}).get("Code")


def main():
    failures = 0

    def check(name, ok, seen):
        nonlocal failures
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {seen}")

    with mock_aws():
        c = boto3.client("dynamodb", region_name="eu-west-1")
        c.create_table(
            TableName=TABLE, KeySchema=KEY, AttributeDefinitions=ATTRS, BillingMode="PAY_PER_REQUEST"
        )
        c.put_item(TableName=TABLE, Item=item("old", 1, "kept"))
        c.put_item(TableName=TABLE, Item=item("cur", 1, "now"))

        insert = f'INSERT INTO "{TABLE}" VALUE {{\'pk\': ?, \'sk\': ?, \'rev\': ?, \'state\': ?}}'
        params = [{"S": "new"}, {"S": "service"}, {"N": "1"}, {"S": "fresh"}]
        got = run(c, [{"Statement": insert, "Parameters": params}])
        check("INSERT with parameters writes a new item", stored(c, "new") is not None, got)

        literal = f"INSERT INTO \"{TABLE}\" VALUE {{'pk': 'old', 'sk': 'service', 'rev': 9}}"
        got = run(c, [{"Statement": literal}])
        after = stored(c, "old")
        check(
            "INSERT of an existing item answers DuplicateItem and keeps it",
            error_code(got) == "DuplicateItem" and after == item("old", 1, "kept"),
            f"{got}; stored now {after}",
        )

        update = (
            f'UPDATE "{TABLE}" SET "rev" = ? SET "state" = ? '
            'WHERE "pk" = ? AND "sk" = ? AND "rev" = ?'
        )
        stale = [{"N": "8"}, {"S": "lost"}, {"S": "old"}, {"S": "service"}, {"N": "7"}]
        got = run(c, [{"Statement": update, "Parameters": stale, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}])
        check(
            "UPDATE at a stale revision answers ConditionalCheckFailed",
            error_code(got) == "ConditionalCheckFailed",
            got,
        )

        current = [{"N": "2"}, {"S": "next"}, {"S": "cur"}, {"S": "service"}, {"N": "1"}]
        got = run(c, [{"Statement": update, "Parameters": current}])
        after = stored(c, "cur")
        check(
            "UPDATE at the current revision writes",
            after is not None and after.get("state") == {"S": "next"},
            f"{got}; stored now {after}",
        )

    print(f"{failures} of 4 checks failed" if failures else "all 4 checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
