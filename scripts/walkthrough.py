"""The steps of the local walk-through (scripts/walkthrough.sh, docs/running-locally.md).

Uses boto3 from the project's venv (installed with moto by `make test-setup`), so no
aws-cli is needed. Every AWS call goes to AWS_ENDPOINT_URL (the local emulator).

  free-port                 print a free loopback port
  setup                     table, topic, a queue subscribed to the topic, the ECS service
  invoke BOOTSTRAP EVENTS   run the bootstrap binary as Lambda does, one invocation per
                            event of the JSON Lines file, through a local Runtime API
  alerts                    read the queue: every alert the function published
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

TABLE = "rw-state"
TOPIC = "rw-alerts"
QUEUE = "rw-alerts-inbox"
CLUSTER = "demo-cluster"
SERVICE = "web"


def client(name):
    return boto3.client(name, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def wait_for_endpoint(seconds=30):
    """moto_server was just started in the background: wait until it answers."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client("sns").list_topics()
            return
        except Exception:  # noqa: BLE001 - connection refused until it listens
            if time.monotonic() > deadline:
                sys.exit(f"walkthrough: no AWS endpoint at {os.environ['AWS_ENDPOINT_URL']}")
            time.sleep(0.2)


def setup():
    wait_for_endpoint()
    s, n = "S", "N"
    client("dynamodb").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": s},
            {"AttributeName": "sk", "AttributeType": s},
            {"AttributeName": "due_pk", "AttributeType": s},
            {"AttributeName": "due_at", "AttributeType": n},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "due-index",
                "KeySchema": [
                    {"AttributeName": "due_pk", "KeyType": "HASH"},
                    {"AttributeName": "due_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    topic = client("sns").create_topic(Name=TOPIC)["TopicArn"]
    sqs = client("sqs")
    queue = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    ecs = client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family=SERVICE,
        containerDefinitions=[{"name": SERVICE, "image": "nginx", "memory": 256}],
    )
    ecs.create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=SERVICE, desiredCount=1
    )
    print(f"table {TABLE}, topic {topic}")
    print(f"queue {QUEUE} subscribed to the topic; ECS service {CLUSTER}/{SERVICE}")


class RuntimeApi(ThreadingHTTPServer):
    """Lambda's Runtime API, as much as a bootstrap uses: hands out queued events on
    GET .../invocation/next (holding the request while none is queued) and records
    what the function posts back."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.events = []
        self.posted = []
        self.cond = threading.Condition()

    def handle_error(self, request, client_address):
        # The function is stopped at the end while it waits for a next event, which
        # resets its connection: no error of the walk-through's. Anything else is.
        if isinstance(sys.exc_info()[1], ConnectionResetError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        api = self.server
        with api.cond:
            api.cond.wait_for(lambda: api.events)
            request_id, event = api.events.pop(0)
        deadline = str(int(time.time() * 1000) + 30_000)
        self.reply(
            200,
            json.dumps(event).encode(),
            [
                ("lambda-runtime-aws-request-id", request_id),
                ("lambda-runtime-deadline-ms", deadline),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:ecs-event-handler",
                ),
                ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000"),
                ("content-type", "application/json"),
            ],
        )

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        self.reply(202, b"{}")
        api = self.server
        with api.cond:
            api.posted.append((self.path.rsplit("/", 1)[-1], json.loads(body or b"null")))
            api.cond.notify_all()


def invoke(bootstrap, events_file):
    with open(events_file, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    api = RuntimeApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
            "AWS_LAMBDA_FUNCTION_NAME": "ecs-event-handler",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "STATE_TABLE": TABLE,
            "ALERT_TOPIC_ARN": f"arn:aws:sns:{os.environ['AWS_REGION']}:123456789012:{TOPIC}",
        }
    )
    logs_path = os.path.join("target", "walkthrough-function.log")
    with open(logs_path, "w", encoding="utf-8") as logs:
        function = subprocess.Popen([bootstrap], env=env, stdout=logs, stderr=logs)
        try:
            for i, event in enumerate(events, 1):
                with api.cond:
                    api.events.append((f"walkthrough-{i}", event))
                    api.cond.notify_all()
                    if not api.cond.wait_for(lambda: len(api.posted) >= i, timeout=60):
                        sys.exit(f"walkthrough: no answer from {bootstrap} to event {i}")
                kind, body = api.posted[i - 1]
                if kind != "response":
                    sys.exit(f"walkthrough: event {i}: the function failed: {json.dumps(body)}")
                print(
                    f"event {i:2} {event['detail-type']:<27} -> {body['status']}, "
                    f"alerts published: {body.get('alerts_published', 0)}"
                )
        finally:
            function.terminate()
            function.wait()
    with open(logs_path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    logs = [line for line in lines if "level" in line]
    loud = [line for line in logs if line["level"] in ("WARN", "ERROR")]
    print(
        f"function log ({logs_path}): {len(logs)} JSON log lines, one per event, "
        f"{len(emf)} EMF metric lines, {len(loud)} WARN or ERROR"
    )
    for line in loud:
        print(json.dumps(line))


def alerts():
    sqs = client("sqs")
    queue = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    got = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        for m in batch:
            envelope = json.loads(m["Body"])
            body = json.loads(envelope["Message"])
            alert = json.loads(body["metadata"]["additionalContext"]["alert"])
            got.append((alert["at"], envelope, body))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    print(f"{len(got)} alert(s) in the queue {QUEUE}:")
    for _, envelope, body in sorted(got, key=lambda g: g[0]):
        attributes = " ".join(
            f"{k}={v['Value']}" for k, v in sorted(envelope["MessageAttributes"].items())
        )
        print()
        print(f"Subject: {envelope['Subject']}")
        print(f"MessageAttributes: {attributes}")
        print(body["content"]["description"])


def main():
    match sys.argv[1:]:
        case ["free-port"]:
            free_port()
        case ["setup"]:
            setup()
        case ["invoke", bootstrap, events_file]:
            invoke(bootstrap, events_file)
        case ["alerts"]:
            alerts()
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main()
