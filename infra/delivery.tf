################################################################################
# Queue delivery (var.event_delivery.mode = "queue"):
#
#   EventBridge rules ──► SQS FIFO queue <name>-events.fifo ──► event source
#   (one message group)      │ maxReceiveCount             mapping, batches of 10
#                            ▼                             ──► ecs-event-handler
#                 <name>-events-dlq.fifo                   (batchItemFailures)
#
# Every rule's target uses the same message group, so the account's events are
# read in order by one invocation at a time: a service's item has one writer
# (the sweeper's writes stay conditional) instead of racing invocations, and a
# batch of a service's events costs one state write. A FIFO queue takes 300
# sends a second without high-throughput mode, far above the bursts of a
# 500-task rollout; a throttled send is retried under the targets' retry policy.
#
# Both queues use the module key, like every other queue. In direct mode none of
# this exists and the rules invoke the handler (events.tf).
################################################################################

locals {
  # AWS advises a visibility timeout of at least six times the function's
  # timeout for an event source mapping, so that Lambda can retry a throttled
  # invocation of a batch before its messages become visible again; below the
  # function's timeout Lambda refuses the mapping. A shorter one would let a
  # batch still being processed be received again, by a second invocation: two
  # writers again. The price, in one message group: a message handed back
  # (batchItemFailures, a function error) holds every later event of the account
  # until its visibility timeout ends, 3 minutes with the handler's default
  # 30-second timeout, for each of max_receive_count tries. The handler
  # acknowledges what a retry cannot mend (malformed events), and a service
  # whose state write landed is done even when SNS or CloudWatch fails (its
  # alerts wait in the outbox for the sweeper). What waits is a state write
  # that did not land (DynamoDB throttling or errors, conflicts past the
  # retries) or a failed invocation (throttled, timed out, crashed). To hold
  # the group for less, lower the handler's timeout.
  event_queue_visibility_timeout = 6 * var.functions.ecs_event_handler.timeout

  # Names as the queues get them, for alarms and the dashboard (whose for_each
  # and widgets must not depend on computed attributes).
  event_queue_name     = "${var.name}-events.fifo"
  event_queue_dlq_name = "${var.name}-events-dlq.fifo"
}

resource "aws_sqs_queue" "events" {
  count = local.event_queue ? 1 : 0

  name       = local.event_queue_name
  fifo_queue = true
  # EventBridge requires it of a FIFO target (it passes no deduplication id):
  # SQS derives the id from the body, the whole event with its id, so a send
  # EventBridge retries within five minutes is stored once.
  content_based_deduplication = true
  visibility_timeout_seconds  = local.event_queue_visibility_timeout
  # Four days (SQS's default): room to fix a stopped handler before events age
  # out; the targets' maximum event age applies before the queue, not in it.
  message_retention_seconds         = 345600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq[0].arn
    maxReceiveCount     = var.event_delivery.max_receive_count
  })

  tags = local.tags

  # On a switch to direct mode, deleted only after the rules' targets have
  # moved to the handler (events.tf, the targets' depends_on).
  lifecycle {
    create_before_destroy = true
  }
}

# A FIFO queue's dead-letter queue must be FIFO too; it keeps messages 14 days,
# like the module's other dead-letter queues.
resource "aws_sqs_queue" "events_dlq" {
  count = local.event_queue ? 1 : 0

  name                              = local.event_queue_dlq_name
  fifo_queue                        = true
  content_based_deduplication       = true
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

resource "aws_sqs_queue_policy" "events" {
  count = local.event_queue ? 1 : 0

  queue_url = aws_sqs_queue.events[0].id
  policy    = data.aws_iam_policy_document.event_queue[0].json

  # On a switch to direct mode, deleted only after the rules' targets have
  # moved to the handler (events.tf, the targets' depends_on).
  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "event_queue" {
  count = local.event_queue ? 1 : 0

  # Only this module's rules send (the key policy lets EventBridge encrypt for
  # the queue, main.tf); the handler's role receives and deletes (iam.tf).
  statement {
    sid = "EventBridgeRulesSendEvents"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events[0].arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for rule in aws_cloudwatch_event_rule.this : rule.arn]
    }
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [aws_sqs_queue.events[0].arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  count = local.event_queue ? 1 : 0

  queue_url = aws_sqs_queue.events_dlq[0].id
  policy    = data.aws_iam_policy_document.event_queue_dlq[0].json
}

# SQS itself moves messages here; no principal needs to send.
data "aws_iam_policy_document" "event_queue_dlq" {
  count = local.event_queue ? 1 : 0

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [aws_sqs_queue.events_dlq[0].arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# Batches of at most 10 (the FIFO maximum; FIFO queues take no batching
# window). The handler answers with batchItemFailures: the messages to hand
# back, a service's failed event and the later ones of that service.
resource "aws_lambda_event_source_mapping" "events" {
  count = local.event_queue ? 1 : 0

  event_source_arn        = aws_sqs_queue.events[0].arn
  function_name           = aws_lambda_function.this["ecs-event-handler"].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]
  enabled                 = true
  # No tags: the provider takes them on a mapping only from 5.70, the module
  # supports 5.61 and later (versions.tf), and a mapping costs nothing itself.

  # Lambda checks, when the mapping is created, that the role may receive from
  # the queue.
  depends_on = [aws_iam_role_policy.this]

  # On a switch to direct mode, deleted only after the rules' targets have
  # moved to the handler (events.tf, the targets' depends_on).
  lifecycle {
    create_before_destroy = true
  }
}
