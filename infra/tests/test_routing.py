"""(4) The event patterns route exactly what the watcher needs.

The test starts moto's server on a free loopback port, creates one EventBridge
rule per infra/event-patterns/*.json file (the very files the module reads with
file()), each with an SQS queue as its target, puts every fixture event and
checks where it arrived: a watched event in exactly one queue, exactly once; a
noise event nowhere. Queue delivery is routed too: every rule to one FIFO queue
in the module's message group, as the handler's batches see it.

Fixtures: fixtures/samples/ are the EventBridge events among the shared reference
samples (verbatim copies); fixtures/handwritten/ adds noise and edge cases. Set
SIMULATED_EVENTS_DIR to a directory of JSON Lines (or JSON array) files, for
example `rollout-watcher simulate` output, to route those events too: every
"ECS Deployment State Change" and "ECS Hook State Change" event and every task
event of a service task (detail.group "service:...") must reach the handler.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest

from motoserver import moto_server
from tfsource import INFRA, PATTERNS_DIR

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = sorted((FIXTURES / "samples").glob("*.json"))
HANDWRITTEN = sorted((FIXTURES / "handwritten").glob("*.json"))
PATTERNS = {p.stem: p.read_text() for p in sorted(PATTERNS_DIR.glob("*.json"))}

DEPLOYMENT, HOOK, SERVICE_ACTION, TASK = "deployment-state-change", "hook-state-change", "service-action", "task-state-change"
WATCHED_SERVICE_ACTIONS = {
    "SERVICE_TASK_START_IMPAIRED", "SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_TASK_CONFIGURATION_FAILURE",
    "SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_DEPLOYMENT_FAILED",
}

# Where each fixture must land (None: nowhere). Stated per file so that a new
# fixture has to say what it expects.
EXPECTED = {
    "deployment-state-change-completed-real-2022.json": DEPLOYMENT,
    "deployment-state-change-completed.json": DEPLOYMENT,
    "deployment-state-change-failed-circuit-breaker.json": DEPLOYMENT,
    "deployment-state-change-in-progress-real-2025-with-clusterarn.json": DEPLOYMENT,
    "deployment-state-change-in-progress-rollback.json": DEPLOYMENT,
    "deployment-state-change-in-progress.json": DEPLOYMENT,
    # AWS's example of a PAUSE hook waiting for ContinueServiceDeployment.
    "hook-state-change-awaiting-action.json": HOOK,
    "service-action-capacity-provider-steady-state.json": None,
    "service-action-steady-state.json": None,
    "service-action-task-placement-failure-ec2-cpu.json": SERVICE_ACTION,
    "service-action-task-placement-failure-fargate-spot.json": SERVICE_ACTION,
    "service-action-task-start-impaired.json": SERVICE_ACTION,
    # The 2016 doc example's group is the placeholder "task-group": without
    # "service:NAME" the handler could not tell which service it belongs to.
    "task-state-change-container-stopped-task-running-2016.json": None,
    # Standalone tasks (group "family:..."): not part of any rollout.
    "task-state-change-running-ec2-2025.json": None,
    "task-state-change-running-fargate-2020.json": None,
    "task-state-change-running-fargate-2025.json": None,
    "task-state-change-stopped-elb-healthcheck.json": TASK,
    "task-state-change-stopped-user-initiated-with-elb-attachment.json": TASK,
    "noise-container-instance-state-change.json": None,
    "noise-custom-source-imitating-deployment.json": None,
    "noise-custom-source-imitating-hook.json": None,
    "noise-desired-count-updated.json": None,
    "noise-service-steady-state.json": None,
    "noise-standalone-task-family.json": None,
    "noise-task-without-group.json": None,
    "noise-tasks-stopped-az-rebalancing.json": None,
    "watched-deployment-state-change-unknown-event-name.json": DEPLOYMENT,
    # A service created before 2021 keeps its short ARN (service/NAME, no
    # cluster) in `resources`; detail.clusterArn places it (the handler does so).
    "watched-deployment-state-change-short-service-arn.json": DEPLOYMENT,
    "watched-hook-state-change-timed-out-without-resources.json": HOOK,
    "watched-service-action-configuration-failure.json": SERVICE_ACTION,
    "watched-service-action-deployment-failed.json": SERVICE_ACTION,
    "watched-task-pending-service.json": TASK,
    "watched-task-stopped-failed-to-start.json": TASK,
}


def intended_rule(event: dict) -> str | None:
    """The routing the module intends, stated independently of the patterns."""
    if event.get("source") != "aws.ecs":
        return None
    detail = event.get("detail") or {}
    detail_type = event.get("detail-type")
    if detail_type == "ECS Deployment State Change":
        return DEPLOYMENT
    if detail_type == "ECS Hook State Change":
        return HOOK
    if detail_type == "ECS Service Action" and detail.get("eventName") in WATCHED_SERVICE_ACTIONS:
        return SERVICE_ACTION
    if detail_type == "ECS Task State Change" and str(detail.get("group", "")).startswith("service:"):
        return TASK
    return None


# --------------------------------------------------------------------------
# moto server and the rules
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def clients(moto_endpoint):
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    options = dict(
        endpoint_url=moto_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return boto3.client("events", **options), boto3.client("sqs", **options)


class Router:
    """Rules built from patterns on one bus, each feeding its own queue."""

    def __init__(self, events, sqs, bus: str, patterns: dict[str, str]):
        self.events, self.sqs, self.bus = events, sqs, bus
        self.queues: dict[str, str] = {}
        if bus != "default":
            events.create_event_bus(Name=bus)
        for name, pattern in patterns.items():
            url = sqs.create_queue(QueueName=f"{bus}-{name}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=f"{bus}-{name}", EventBusName=bus, EventPattern=pattern, State="ENABLED")
            events.put_targets(Rule=f"{bus}-{name}", EventBusName=bus, Targets=[{"Id": "ecs-event-handler", "Arn": arn}])
            self.queues[name] = url

    def route(self, events: list[dict]) -> list[list[str]]:
        """Put the events; return, for each, the rules whose queue received it."""
        deliveries: list[list[str]] = []
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            response = self.events.put_events(
                Entries=[
                    {
                        "Source": e["source"],
                        "DetailType": e["detail-type"],
                        "Detail": json.dumps(e["detail"]),
                        "Resources": e.get("resources", []),
                        "EventBusName": self.bus,
                    }
                    for e in batch
                ]
            )
            assert response.get("FailedEntryCount", 0) == 0, response
            ids = [entry["EventId"] for entry in response["Entries"]]
            seen: dict[str, list[str]] = {event_id: [] for event_id in ids}
            for rule, url in self.queues.items():
                for body in self._drain(url):
                    assert body["id"] in seen, f"unexpected message in {rule}: {body['id']}"
                    seen[body["id"]].append(rule)
            deliveries += [seen[event_id] for event_id in ids]
        return deliveries

    def _drain(self, url: str) -> list[dict]:
        bodies = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture(scope="module")
def router(clients):
    events, sqs = clients
    return Router(events, sqs, "default", PATTERNS)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_every_fixture_states_its_expectation():
    names = {p.name for p in SAMPLES + HANDWRITTEN}
    assert names == set(EXPECTED), (
        f"fixtures without an expectation: {sorted(names - set(EXPECTED))}; "
        f"expectations without a fixture: {sorted(set(EXPECTED) - names)}"
    )
    assert set(PATTERNS) == {DEPLOYMENT, HOOK, SERVICE_ACTION, TASK}, f"pattern files changed: {sorted(PATTERNS)}"


@pytest.mark.parametrize("path", SAMPLES + HANDWRITTEN, ids=lambda p: p.name)
def test_intent_matches_expectation_table(path):
    assert intended_rule(json.loads(path.read_text())) == EXPECTED[path.name]


def test_fixtures_route_exactly_as_intended(router):
    paths = SAMPLES + HANDWRITTEN
    events = [json.loads(p.read_text()) for p in paths]
    deliveries = router.route(events)
    wrong = []
    for path, landed in zip(paths, deliveries):
        expected = [EXPECTED[path.name]] if EXPECTED[path.name] else []
        if landed != expected:
            wrong.append(f"{path.name}: expected {expected or 'nowhere'}, got {landed or 'nowhere'}")
    assert not wrong, "misrouted events:\n" + "\n".join(wrong)
    assert sum(1 for landed in deliveries if landed) >= 17


def test_duplicate_events_are_each_delivered_once(router):
    """At-least-once delivery is the handler's business (dedup keys): the rules
    must neither drop nor multiply a duplicate."""
    event = json.loads((FIXTURES / "samples" / "deployment-state-change-failed-circuit-breaker.json").read_text())
    assert router.route([event, event]) == [[DEPLOYMENT], [DEPLOYMENT]]


# --------------------------------------------------------------------------
# Queue delivery: every rule -> one FIFO queue, one message group
# --------------------------------------------------------------------------

# The message group every target uses (delivery contract; events.tf).
MESSAGE_GROUP = "ecs-events"


def test_message_group_is_the_one_events_tf_sets():
    assert f'for_each = local.event_queue ? ["{MESSAGE_GROUP}"] : []' in (INFRA / "events.tf").read_text()


def test_queue_delivery_hands_over_whole_events_in_one_group_in_order(clients):
    """What the handler's batches are made of: each watched event once, as the
    whole EventBridge event, all in one message group, in the order they were
    put; noise nowhere. Content-based deduplication keys on the body, which
    carries the event's id, so a duplicate ECS event (a new id) is not dropped."""
    events, sqs = clients
    url = sqs.create_queue(QueueName="queued-events.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.create_event_bus(Name="queued")
    for name, pattern in PATTERNS.items():
        events.put_rule(Name=f"queued-{name}", EventBusName="queued", EventPattern=pattern, State="ENABLED")
        events.put_targets(
            Rule=f"queued-{name}",
            EventBusName="queued",
            Targets=[{"Id": "ecs-event-handler", "Arn": arn, "SqsParameters": {"MessageGroupId": MESSAGE_GROUP}}],
        )

    paths = SAMPLES + HANDWRITTEN
    fixtures = [json.loads(p.read_text()) for p in paths]
    duplicate = json.loads((FIXTURES / "samples" / "deployment-state-change-failed-circuit-breaker.json").read_text())
    fixtures.append(duplicate)
    expected_rules = [EXPECTED[p.name] for p in paths] + [DEPLOYMENT]
    put_ids = []
    for start in range(0, len(fixtures), 10):
        response = events.put_events(
            Entries=[
                {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]), "Resources": e.get("resources", []), "EventBusName": "queued"}
                for e in fixtures[start : start + 10]
            ]
        )
        assert response.get("FailedEntryCount", 0) == 0, response
        put_ids += [entry["EventId"] for entry in response["Entries"]]

    received = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", [])
        if not messages:
            break
        for message in messages:
            received.append((message["Attributes"]["MessageGroupId"], json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    watched = [(event_id, event) for event_id, event, rule in zip(put_ids, fixtures, expected_rules) if rule]
    assert [body["id"] for _, body in received] == [event_id for event_id, _ in watched], "each watched event once, in the order put"
    assert {group for group, _ in received} == {MESSAGE_GROUP}
    for (_, body), (_, event) in zip(received, watched):
        # moto's envelope lacks `account`, which AWS's carries.
        assert {"version", "id", "detail-type", "source", "time", "region", "resources", "detail"} <= set(body), body
        assert (body["source"], body["detail-type"], body["detail"], body["resources"]) == (event["source"], event["detail-type"], event["detail"], event.get("resources", []))
    assert sum(1 for _, body in received if body["detail"] == duplicate["detail"]) == 2


# --------------------------------------------------------------------------
# Cluster filter
# --------------------------------------------------------------------------


def with_cluster_filter(patterns: dict[str, str], cluster_arns: list[str]) -> dict[str, str]:
    """Mirror of local.event_patterns in events.tf (kept in step by
    test_cluster_filter_mirror_matches_events_tf)."""
    prefixes = [arn.replace(":cluster/", ":service/") + "/" for arn in cluster_arns]
    out = {}
    for name, text in patterns.items():
        pattern = json.loads(text)
        if name == DEPLOYMENT:
            pattern["$or"] = [{"resources": [{"prefix": p} for p in prefixes]}, {"detail": {"clusterArn": list(cluster_arns)}}]
        else:
            pattern["detail"] = {**pattern.get("detail", {}), "clusterArn": list(cluster_arns)}
        out[name] = json.dumps(pattern)
    return out


def test_cluster_filter_mirror_matches_events_tf():
    source = (INFRA / "events.tf").read_text()
    assert 'replace(arn, ":cluster/", ":service/")}/"' in source
    assert "{ resources = [for prefix in local.service_arn_prefixes : { prefix = prefix }] }," in source
    assert "{ detail = { clusterArn = var.cluster_arns } }," in source
    assert source.count("{ clusterArn = var.cluster_arns }") == 4


def test_cluster_filter_keeps_only_watched_clusters(clients):
    events, sqs = clients
    watched = "arn:aws:ecs:us-west-2:111122223333:cluster/default"
    router = Router(events, sqs, "filtered", with_cluster_filter(PATTERNS, [watched]))
    paths = SAMPLES + HANDWRITTEN
    fixtures = [json.loads(p.read_text()) for p in paths]
    deliveries = router.route(fixtures)
    wrong = []
    for path, event, landed in zip(paths, fixtures, deliveries):
        in_cluster = event["detail"].get("clusterArn") == watched or any(
            r.startswith("arn:aws:ecs:us-west-2:111122223333:service/default/") for r in event.get("resources", [])
        )
        expected = [EXPECTED[path.name]] if EXPECTED[path.name] and in_cluster else []
        if landed != expected:
            wrong.append(f"{path.name}: expected {expected or 'nowhere'}, got {landed or 'nowhere'}")
    assert not wrong, "cluster filter misrouted:\n" + "\n".join(wrong)
    assert any(deliveries) and not all(deliveries)


# --------------------------------------------------------------------------
# Simulated scenarios (rollout-watcher simulate)
# --------------------------------------------------------------------------


def load_simulated(directory: Path) -> list[tuple[str, dict]]:
    found = []
    files = sorted(p for p in directory.rglob("*") if p.suffix in (".jsonl", ".json", ".ndjson"))
    for path in files:
        text = path.read_text()
        if text.lstrip().startswith("["):
            items = [(f"{path.name}[{i}]", e) for i, e in enumerate(json.loads(text))]
        else:
            items = [(f"{path.name}:{n}", json.loads(line)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        for where, event in items:
            assert isinstance(event, dict) and {"source", "detail-type", "detail"} <= set(event), f"{where}: not an EventBridge event"
            found.append((where, event))
    return found


@pytest.mark.skipif(not os.environ.get("SIMULATED_EVENTS_DIR"), reason="SIMULATED_EVENTS_DIR not set")
def test_simulated_events_route_to_the_handler(router):
    directory = Path(os.environ["SIMULATED_EVENTS_DIR"])
    assert directory.is_dir(), f"SIMULATED_EVENTS_DIR={directory} is not a directory"
    simulated = load_simulated(directory)
    assert simulated, f"no events in {directory} (*.jsonl, *.ndjson or *.json)"
    # `make sim-events` writes rolling and ECS-native (blue/green, linear,
    # canary, hook) scenarios: each kind of event the handler follows is there.
    kinds = {event.get("detail-type") for _, event in simulated}
    missing = {"ECS Deployment State Change", "ECS Hook State Change", "ECS Task State Change"} - kinds
    assert not missing, f"{directory} has no {sorted(missing)} events: write every scenario with `make sim-events`"
    deliveries = router.route([event for _, event in simulated])
    wrong = []
    for (where, event), landed in zip(simulated, deliveries):
        detail = event.get("detail") or {}
        must_route = event.get("detail-type") in ("ECS Deployment State Change", "ECS Hook State Change") or (
            event.get("detail-type") == "ECS Task State Change" and str(detail.get("group", "")).startswith("service:")
        )
        if must_route and len(landed) != 1:
            wrong.append(f"{where}: {event['detail-type']} must reach the handler exactly once, got {landed or 'nowhere'}")
        intended = intended_rule(event)
        if landed != ([intended] if intended else []):
            wrong.append(f"{where}: expected {intended or 'nowhere'}, got {landed or 'nowhere'}")
    assert not wrong, f"{len(wrong)} simulated event(s) misrouted:\n" + "\n".join(wrong[:50])
