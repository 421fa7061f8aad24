"""(5) Filtered subscriptions still get the module's CloudWatch alarms.

The module's alarms (no running task, deployment failed, the watcher's errors and
dead-letter queues) notify the alert topic, and CloudWatch publishes them with no
message attributes. SNS rejects a message that lacks an attribute a filter policy
names, so a subscription filtered on `severity` (email, by default warning and
critical; the slack-notifier; a team's queue) would never see an alarm. The
module renders every filter as `{"$or": [filter, {"alert": [{"exists": false}]}]}`:
the watcher's alerts (which always carry `alert`) are filtered, the alarms pass.

The test starts moto's server on a free loopback port, subscribes an SQS queue to
a topic with each policy, publishes an alert of each severity (with the
attributes the SNS adapter sets) and an alarm notification as CloudWatch sends
it, and checks what each queue received. `filter_policy` mirrors alerting.tf;
module.tftest.hcl checks the rendered policies equal it.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest

from motoserver import moto_server

ALARM = json.dumps(
    {
        "AlarmName": "rw-main-web-no-running-tasks",
        "AWSAccountId": "123456789012",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 3 datapoints were less than the threshold (1.0).",
        "StateChangeTime": "2026-03-02T10:16:02.006+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:rw-main-web-no-running-tasks",
        "OldStateValue": "OK",
    }
)


def filter_policy(filters: dict[str, list[str]]) -> dict | None:
    """The filter policy alerting.tf renders for a subscription's filters."""
    if not filters:
        return None
    return {"$or": [filters, {"alert": [{"exists": False}]}]}


def attributes(severity: str, alert: str, status: str = "firing") -> dict:
    """The message attributes the SNS adapter publishes an alert with."""
    values = {"severity": severity, "alert": alert, "cluster": "main", "service": "web", "status": status}
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


@pytest.fixture(scope="module")
def sns_sqs():
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with moto_server() as url:
        options = dict(endpoint_url=url, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        yield boto3.client("sns", **options), boto3.client("sqs", **options)


def deliveries(sns, sqs, name: str, policy: dict | None) -> list[str]:
    """Subscribes a fresh queue with `policy`, publishes the four messages and
    returns what the queue received: alert names, and "alarm" for the alarm."""
    topic = sns.create_topic(Name=f"{name}-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    extra = {} if policy is None else {"FilterPolicy": json.dumps(policy), "FilterPolicyScope": "MessageAttributes"}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true", **extra})
    for severity, alert in [("info", "deployment_started"), ("warning", "health_check_failed"), ("critical", "zero_running_tasks")]:
        sns.publish(TopicArn=topic, Message=json.dumps({"alert": alert}), MessageAttributes=attributes(severity, alert))
    sns.publish(TopicArn=topic, Subject="ALARM: rw-main-web-no-running-tasks", Message=ALARM)
    got = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return sorted(got)
        for m in messages:
            body = json.loads(m["Body"])
            got.append("alarm" if "AlarmName" in body else body["alert"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


def test_a_severity_filter_alone_drops_the_alarms(sns_sqs):
    """Why the module does not render the bare filter: the default email filter
    would never mail the on-call the no-running-tasks alarm."""
    sns, sqs = sns_sqs
    got = deliveries(sns, sqs, "bare", {"severity": ["warning", "critical"]})
    assert got == ["health_check_failed", "zero_running_tasks"]


def test_the_default_email_filter_gets_warnings_criticals_and_alarms(sns_sqs):
    sns, sqs = sns_sqs
    got = deliveries(sns, sqs, "email", filter_policy({"severity": ["warning", "critical"]}))
    assert got == ["alarm", "health_check_failed", "zero_running_tasks"]


def test_a_pager_queue_on_criticals_that_fire_gets_the_alarm_too(sns_sqs):
    sns, sqs = sns_sqs
    got = deliveries(sns, sqs, "pager", filter_policy({"severity": ["critical"], "status": ["firing"]}))
    assert got == ["alarm", "zero_running_tasks"]


def test_no_filter_gets_everything(sns_sqs):
    sns, sqs = sns_sqs
    got = deliveries(sns, sqs, "all", filter_policy({}))
    assert got == ["alarm", "deployment_started", "health_check_failed", "zero_running_tasks"]
