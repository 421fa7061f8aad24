#!/usr/bin/env python3
"""Does the tests' moto launcher run the batched state writes as DynamoDB does?

The handler writes every service of a queued batch in one PartiQL
BatchExecuteStatement: an INSERT for a new service's item (DynamoDB answers
DuplicateItem when it exists) and an UPDATE ... WHERE pk = ? AND sk = ? AND rev = ?
for the others (ConditionalCheckFailed when the revision moved). moto cannot run
those statements, so the Rust tests start moto through tests/support/moto_server.py,
which serves them. This starts that launcher on a free loopback port and checks,
through boto3, every rule it answers, and that moto's own PutItem is untouched.
Run it with the project's virtualenv from the workspace root:
`.venv/bin/python scripts/moto-partiql.py` (or `make check-moto-partiql`).
It prints one line per check and exits 1 when any check fails.
"""

import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).resolve().parent.parent / "tests/support/moto_server.py"
TABLE = "state"
INSERT = f"INSERT INTO \"{TABLE}\" VALUE {{'pk': ?, 'sk': ?, 'rev': ?, 'state': ?, 'blob': ?}}"
UPDATE = (
    f'UPDATE "{TABLE}" SET "rev" = ? SET "state" = ? REMOVE "blob" REMOVE "absent" '
    'WHERE "pk" = ? AND "sk" = ? AND "rev" = ?'
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_launcher(port):
    """The launcher's process, once it listens on the port."""
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{LAUNCHER} exited during start-up ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"{LAUNCHER} did not listen on port {port} within 60 s")


def client(port, validate=True):
    return boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=validate),
    )


def item(pk, rev, state):
    return {
        "pk": {"S": pk},
        "sk": {"S": "service"},
        "rev": {"N": str(rev)},
        "state": {"S": state},
        "blob": {"B": b"\x00\xff" + pk.encode()},
    }


def insert(pk, rev, state):
    new = item(pk, rev, state)
    params = [new[a] for a in ("pk", "sk", "rev", "state", "blob")]
    return {"Statement": INSERT, "Parameters": params}


def update(pk, rev, state, at, **extra):
    params = [{"N": str(rev)}, {"S": state}, {"S": pk}, {"S": "service"}, {"N": str(at)}]
    return {"Statement": UPDATE, "Parameters": params, **extra}


def run(c, statements):
    """The per-statement responses, or the error code the whole call answered."""
    try:
        return c.batch_execute_statement(Statements=statements)["Responses"]
    except ClientError as e:
        return f"{e.response['Error']['Code']}: {e.response['Error']['Message']}"


def stored(c, pk):
    got = c.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": "service"}})
    return got.get("Item")


def error(responses, i=0):
    return responses[i].get("Error") if isinstance(responses, list) else None


def code(responses, i=0):
    return (error(responses, i) or {}).get("Code")


def whole_call(responses, wanted):
    return isinstance(responses, str) and responses.startswith(wanted + ":")


def checks(c, raw):
    """(name, ok, what was seen) for every rule the launcher answers."""
    c.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )

    got = run(c, [insert("new", 1, "fresh")])
    yield "INSERT with parameters writes, GetItem reads it back (B too)", (
        got == [{"TableName": TABLE}] and stored(c, "new") == item("new", 1, "fresh")
    ), f"{got}; stored {stored(c, 'new')}"

    got = run(c, [insert("new", 9, "again")])
    yield "INSERT of an existing item answers DuplicateItem and keeps it", (
        code(got) == "DuplicateItem"
        and "Item" not in error(got)
        and stored(c, "new") == item("new", 1, "fresh")
    ), f"{got}; stored {stored(c, 'new')}"

    got = run(c, [update("new", 8, "lost", 7, ReturnValuesOnConditionCheckFailure="ALL_OLD")])
    yield "UPDATE at a stale rev, ALL_OLD: ConditionalCheckFailed with the stored item", (
        code(got) == "ConditionalCheckFailed"
        and error(got).get("Item") == item("new", 1, "fresh")
        and stored(c, "new") == item("new", 1, "fresh")
    ), got

    got = run(c, [update("new", 8, "lost", 7)])
    yield "UPDATE at a stale rev, not asked: ConditionalCheckFailed without Item", (
        code(got) == "ConditionalCheckFailed" and "Item" not in error(got)
    ), got

    got = run(c, [update("gone", 2, "lost", 1, ReturnValuesOnConditionCheckFailure="ALL_OLD")])
    yield "UPDATE of a missing item: ConditionalCheckFailed without Item, nothing written", (
        code(got) == "ConditionalCheckFailed" and "Item" not in error(got) and not stored(c, "gone")
    ), got

    c.put_item(TableName=TABLE, Item={**item("cur", 1, "now"), "kept": {"S": "yes"}})
    got = run(c, [update("cur", 2, "next", 1)])
    after = stored(c, "cur")
    want = {"pk": {"S": "cur"}, "sk": {"S": "service"}, "rev": {"N": "2"}, "state": {"S": "next"}}
    yield "UPDATE at the current rev sets, removes, leaves the rest", (
        got == [{"TableName": TABLE}] and after == {**want, "kept": {"S": "yes"}}
    ), f"{got}; stored {after}"

    got = run(c, [insert("mixed", 1, "good"), update("cur", 9, "bad", 1)])
    yield "a batch of one good and one failing statement writes the good one, in order", (
        isinstance(got, list)
        and got[0] == {"TableName": TABLE}
        and code(got, 1) == "ConditionalCheckFailed"
        and stored(c, "mixed") == item("mixed", 1, "good")
        and stored(c, "cur")["rev"] == {"N": "2"}
    ), got

    got = run(c, [insert(f"many{i}", 1, "x") for i in range(26)])
    yield "26 statements: ValidationException, nothing written", (
        whole_call(got, "ValidationException") and not stored(c, "many0")
    ), got

    got = run(raw, [])
    yield "no statement: ValidationException", whole_call(got, "ValidationException"), got

    got = run(c, [insert("twice", 1, "a"), update("twice", 2, "b", 1)])
    yield "two statements on one key: ValidationException, nothing written", (
        whole_call(got, "ValidationException") and not stored(c, "twice")
    ), got

    select = f'SELECT * FROM "{TABLE}" WHERE "pk" = ? AND "sk" = ?'
    got = run(c, [{"Statement": select, "Parameters": [{"S": "new"}, {"S": "service"}]}])
    yield "another statement shape: ValidationException naming it", (
        whole_call(got, "ValidationException") and select in got
    ), got

    short = update("new", 2, "x", 1)
    short["Parameters"].pop()
    got = run(c, [short])
    yield "a parameter count not matching the ?s: ValidationException", (
        whole_call(got, "ValidationException")
    ), got

    got = run(c, [{**insert("x", 1, "x"), "Statement": INSERT.replace(TABLE, "missing")}])
    yield "a missing table: ResourceNotFoundException", (
        whole_call(got, "ResourceNotFoundException")
    ), got

    try:
        c.put_item(
            TableName=TABLE,
            Item=item("new", 5, "put"),
            ConditionExpression="attribute_not_exists(pk)",
        )
        got = "written"
    except ClientError as e:
        got = e.response["Error"]["Code"]
    c.put_item(
        TableName=TABLE, Item=item("put", 1, "put"), ConditionExpression="attribute_not_exists(pk)"
    )
    yield "moto's own conditional PutItem is untouched", (
        got == "ConditionalCheckFailedException" and stored(c, "put") == item("put", 1, "put")
    ), got


def main():
    port = free_port()
    proc = start_launcher(port)
    failures = total = 0
    try:
        for name, ok, seen in checks(client(port), client(port, validate=False)):
            total += 1
            failures += 0 if ok else 1
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {seen}")
    finally:
        proc.kill()
        proc.wait()
    print(f"{failures} of {total} checks failed" if failures else f"all {total} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
