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
  count = var.create ? 1 : 0

  name                              = "${var.name}-delivery-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags

  # Input combinations that no single variable's validation can see (before
  # Terraform 1.9 a validation may refer only to its own variable). A missing
  # ARN is null, which is known at plan time, so `plan` stops on it before
  # anything is created; an ARN passed next to create_* = true may be unknown
  # until apply, and then this queue's creation stops the apply.
  lifecycle {
    precondition {
      condition     = var.create_kms_key == (var.kms_key_arn == null)
      error_message = "Either keep create_kms_key = true and leave kms_key_arn unset, or set create_kms_key = false and pass your key as kms_key_arn."
    }
    precondition {
      condition     = var.create_sns_topic == (var.sns_topic_arn == null)
      error_message = "Either keep create_sns_topic = true and leave sns_topic_arn unset, or set create_sns_topic = false and pass your topic as sns_topic_arn."
    }
  }
}

resource "aws_sqs_queue_policy" "delivery_dlq" {
  count = var.create ? 1 : 0

  queue_url = aws_sqs_queue.delivery_dlq[0].id
  policy    = data.aws_iam_policy_document.delivery_dlq[0].json
}

data "aws_iam_policy_document" "delivery_dlq" {
  count = var.create ? 1 : 0

  statement {
    sid = "EventBridgeRulesDeadLetter"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivery_dlq[0].arn]
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
    resources = [aws_sqs_queue.delivery_dlq[0].arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.topic_arn]
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
    resources = [aws_sqs_queue.delivery_dlq[0].arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
