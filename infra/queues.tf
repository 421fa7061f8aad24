################################################################################
# Dead-letter queues, all encrypted with the module's key and kept 14 days.
#
# - one per function: Lambda's on-failure destination for asynchronous
#   invocations that still fail after `async_invoke` retries (a malformed event,
#   a bug); the message carries the request, the error and the stack;
# - one for delivery: events EventBridge could not hand to the handler, sweeper
#   ticks Scheduler could not start, and alerts SNS could not deliver to a
#   subscriber. These never reached the code.
################################################################################

resource "aws_sqs_queue" "function_dlq" {
  for_each = toset(local.function_names)

  name                              = "${var.name}-${each.key}-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

resource "aws_sqs_queue_policy" "function_dlq" {
  for_each = toset(local.function_names)

  queue_url = aws_sqs_queue.function_dlq[each.key].id
  policy    = data.aws_iam_policy_document.function_dlq[each.key].json
}

data "aws_iam_policy_document" "function_dlq" {
  for_each = toset(local.function_names)

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [aws_sqs_queue.function_dlq[each.key].arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue" "delivery_dlq" {
  name                              = "${var.name}-delivery-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}

resource "aws_sqs_queue_policy" "delivery_dlq" {
  queue_url = aws_sqs_queue.delivery_dlq.id
  policy    = data.aws_iam_policy_document.delivery_dlq.json
}

data "aws_iam_policy_document" "delivery_dlq" {
  statement {
    sid = "EventBridgeRulesDeadLetter"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivery_dlq.arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for rule in aws_cloudwatch_event_rule.this : rule.arn]
    }
  }

  statement {
    sid = "AlertTopicSubscriptionsDeadLetter"
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivery_dlq.arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this.arn]
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
    resources = [aws_sqs_queue.delivery_dlq.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
