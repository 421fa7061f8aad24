"""moto's server, with DynamoDB's BatchExecuteStatement served for the state writes.

The Lambda handler writes every service of an SQS batch in one PartiQL
BatchExecuteStatement call, each statement a conditional write of one service's
item. moto (5.2.5) cannot run those statements: a parameterised INSERT raises
TypeError, an INSERT over an existing item overwrites it instead of answering
DuplicateItem, and an UPDATE whose WHERE names a non-key attribute (``rev``) raises
AssertionError, so neither the stale-revision nor the current-revision UPDATE works.
The project's rule is that where moto lacks an API the tests serve it locally and
say so: this launcher is that, started like moto_server
(``.venv/bin/python tests/support/moto_server.py -H 127.0.0.1 -p PORT``).

What it answers: BatchExecuteStatement made of exactly these two statement shapes,
on a table keyed ``pk`` (hash) and ``sk`` (range):

* ``INSERT INTO "<table>" VALUE {'<attr>': ?, ...}`` (``'pk'`` and ``'sk'`` among
  the attributes): writes the item when absent, else answers DuplicateItem.
* ``UPDATE "<table>" SET "<a>" = ? ... [REMOVE "<x>" ...] WHERE "pk" = ? AND
  "sk" = ? AND "rev" = ?``: sets and removes when the stored ``rev`` equals the
  parameter, else answers ConditionalCheckFailed (with the stored item when
  ``ReturnValuesOnConditionCheckFailure`` is ``ALL_OLD`` and it exists).

Each entry of ``Responses`` is ``{"TableName": ...}`` or ``{"Error": ...}``, in
statement order; a write moto itself refuses (e.g. a SET on a key attribute) is that
statement's ValidationError. The whole call fails with ValidationException for no
statement, more than 25, two on the same key, a statement of another shape or with
the wrong number of parameters, and with ResourceNotFoundException for a missing
table.

Every read and write goes through moto's own DynamoDB backend (get_item, put_item,
update_item), so GetItem, Query and PutItem see the same items in the same form.
Each statement's check and write run under one lock shared by all
BatchExecuteStatement calls; moto's own PutItem/UpdateItem do not take it, so they
are not atomic with respect to these statements (acceptable for the tests).

What it does not do: any other statement in a batch (SELECT, DELETE, literals,
other WHERE clauses), ConsumedCapacity, or anything outside BatchExecuteStatement:
every other operation, ExecuteStatement and ExecuteTransaction included, is moto's
own, unchanged, with moto's PartiQL limits.
"""

import copy
import re
import sys
import threading

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.server import main

MAX_STATEMENTS = 25
LOCK = threading.Lock()

PAIR = r"'([^']+)'\s*:\s*\?"
PAIRS = rf"\s*{PAIR}(?:\s*,\s*{PAIR})*\s*"
INSERT = re.compile(rf'\s*INSERT INTO "([^"]+)" VALUE \{{({PAIRS})\}}\s*')
UPDATE = re.compile(
    r'\s*UPDATE "([^"]+)"((?: SET "[^"]+" = \?)+)((?: REMOVE "[^"]+")*)'
    r' WHERE "pk" = \? AND "sk" = \? AND "rev" = \?\s*'
)
QUOTED = re.compile(r'"([^"]+)"')


class Insert:
    """A parsed INSERT: the item it writes when its key is free."""

    def __init__(self, table, names, params):
        self.table = table
        self.item = dict(zip(names, params, strict=True))
        self.key = {"pk": self.item["pk"], "sk": self.item["sk"]}

    def run(self, backend, _return_old):
        if backend.get_item(self.table, self.key) is not None:
            return error("DuplicateItem", "Duplicate primary key exists in table")
        backend.put_item(self.table, self.item)
        return {"TableName": self.table}


class Update:
    """A parsed UPDATE: sets and removes when the stored rev is the given one."""

    def __init__(self, table, sets, removes, params):
        self.table = table
        self.sets = dict(zip(sets, params[: len(sets)], strict=True))
        self.removes = removes
        pk, sk, self.rev = params[len(sets):]
        self.key = {"pk": pk, "sk": sk}

    def run(self, backend, return_old):
        stored = backend.get_item(self.table, self.key)
        if stored is None or stored.attrs.get("rev") != DynamoType(self.rev):
            failed = error("ConditionalCheckFailed", "The conditional request failed")
            if stored is not None and return_old:
                failed["Error"]["Item"] = copy.deepcopy(stored).attrs
            return failed
        backend.update_item(self.table, self.key, *self.expression())
        return {"TableName": self.table}

    def expression(self):
        """The statement as an UpdateExpression with its names and values."""
        names = {f"#s{i}": name for i, name in enumerate(self.sets)}
        names.update({f"#r{i}": name for i, name in enumerate(self.removes)})
        values = {f":s{i}": value for i, value in enumerate(self.sets.values())}
        expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(self.sets)))
        if self.removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(self.removes)))
        return expression, names, values


def error(code, message):
    return {"Error": {"Code": code, "Message": message}}


def parse(statement):
    """The Insert or Update a statement is, or ValidationException naming it."""
    text, params = statement.get("Statement", ""), statement.get("Parameters") or []
    if m := INSERT.fullmatch(text):
        table, names = m.group(1), re.findall(PAIR, m.group(2))
        if len(set(names)) != len(names) or not {"pk", "sk"} <= set(names):
            raise MockValidationException(
                f"INSERT needs 'pk', 'sk' and distinct attributes: {text}"
            )
        check_count(text, len(names), params)
        return Insert(table, names, params)
    if m := UPDATE.fullmatch(text):
        table, sets, removes = m.group(1), QUOTED.findall(m.group(2)), QUOTED.findall(m.group(3))
        check_count(text, len(sets) + 3, params)
        return Update(table, sets, removes, params)
    raise MockValidationException(f"Statement not served by tests/support/moto_server.py: {text}")


def check_count(text, wanted, params):
    if len(params) != wanted:
        raise MockValidationException(
            f"Number of parameters in request and statement don't match "
            f"({len(params)} given, {wanted} placeholders): {text}"
        )


def key_of(parsed):
    """A hashable (table, pk, sk) for the duplicate-key check."""
    return parsed.table, DynamoType(parsed.key["pk"]), DynamoType(parsed.key["sk"])


def parse_batch(backend, statements):
    """Every statement parsed, or the error the whole call answers."""
    if not statements:
        raise MockValidationException(
            "1 validation error detected: Value at 'statements' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    if len(statements) > MAX_STATEMENTS:
        raise MockValidationException(
            "1 validation error detected: Value at 'statements' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_STATEMENTS}"
        )
    parsed = [parse(s) for s in statements]
    for p in parsed:
        backend.get_table(p.table)  # ResourceNotFoundException when missing
    if len({key_of(p) for p in parsed}) != len(parsed):
        raise MockValidationException("Provided list of item keys contains duplicates")
    return parsed


def run_statement(backend, parsed, statement):
    """One statement's check and write, atomically, as its response entry."""
    return_old = statement.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    with LOCK:
        try:
            return parsed.run(backend, return_old)
        except MockValidationException as e:
            return error("ValidationError", e.message)


def batch_execute_statement(self):
    """DynamoHandler.batch_execute_statement, for the two state-write shapes."""
    statements = self.body.get("Statements") or []
    parsed = parse_batch(self.dynamodb_backend, statements)
    backend = self.dynamodb_backend
    responses = [run_statement(backend, p, s) for p, s in zip(parsed, statements, strict=True)]
    return DynamoResult({"Responses": responses})


DynamoHandler.batch_execute_statement = batch_execute_statement

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
