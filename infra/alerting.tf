################################################################################
# Alert topic
#
# One message per alert, with message attributes severity (info|warning|critical),
# alert (the alert name), cluster, service and status (firing|resolved) for
# subscription filter policies. The body is readable by Amazon Q Developer in
# chat applications and carries the full alert as JSON.
################################################################################

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alerts"
  display_name      = "rollout-watcher"
  kms_master_key_id = local.kms_key_arn
  signature_version = 2
  tags              = local.tags
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

# Only the watcher publishes: the two functions that raise alerts, and this
# module's alarms. Nothing in the policy grants any other principal anything.
data "aws_iam_policy_document" "topic" {
  statement {
    sid = "WatcherFunctionsPublish"
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.this["ecs-event-handler"].arn, aws_iam_role.this["rollout-sweeper"].arn]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
  }

  statement {
    sid = "WatcherAlarmsPublish"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

################################################################################
# Subscriptions with filter policies on the message attributes
################################################################################

locals {
  email_subscriptions = {
    for address in var.email_subscriptions : "email:${address}" => {
      protocol             = "email"
      endpoint             = address
      severities           = var.email_severities
      alerts               = []
      statuses             = []
      raw_message_delivery = false
    }
  }

  subscriptions = merge(local.email_subscriptions, var.subscriptions)

  # {severity = [...], alert = [...], status = [...]}, leaving out empty lists
  # (an empty list would match nothing; leaving the key out matches everything).
  subscription_filters = {
    for key, s in local.subscriptions : key => {
      for attribute, values in { severity = s.severities, alert = s.alerts, status = s.statuses } :
      attribute => values if length(values) > 0
    }
  }

  slack_notifier_filter = var.slack_notifier == null ? {} : {
    for attribute, values in { severity = var.slack_notifier.severities, alert = var.slack_notifier.alerts } :
    attribute => values if length(values) > 0
  }
}

resource "aws_sns_topic_subscription" "this" {
  for_each = local.subscriptions

  topic_arn            = aws_sns_topic.this.arn
  protocol             = each.value.protocol
  endpoint             = each.value.endpoint
  raw_message_delivery = each.value.raw_message_delivery

  filter_policy       = length(local.subscription_filters[each.key]) == 0 ? null : jsonencode(local.subscription_filters[each.key])
  filter_policy_scope = length(local.subscription_filters[each.key]) == 0 ? null : "MessageAttributes"

  # Email cannot be redriven; the others keep undeliverable alerts.
  redrive_policy = contains(["sqs", "https", "lambda"], each.value.protocol) ? jsonencode({
    deadLetterTargetArn = aws_sqs_queue.delivery_dlq.arn
  }) : null
}

################################################################################
# slack-notifier (optional): SNS -> Lambda -> Slack incoming webhook
################################################################################

resource "aws_sns_topic_subscription" "slack_notifier" {
  count = var.slack_notifier == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this["slack-notifier"].arn

  # The same filter the function applies (SEVERITY_FILTER, ALERT_FILTER), here
  # so that filtered-out alerts do not cost an invocation.
  filter_policy       = length(local.slack_notifier_filter) == 0 ? null : jsonencode(local.slack_notifier_filter)
  filter_policy_scope = length(local.slack_notifier_filter) == 0 ? null : "MessageAttributes"

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.delivery_dlq.arn
  })
}

resource "aws_lambda_permission" "sns" {
  count = var.slack_notifier == null ? 0 : 1

  statement_id  = "AllowAlertTopic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["slack-notifier"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.this.arn
}

################################################################################
# Amazon Q Developer in chat applications (optional): topic -> Slack channel
################################################################################

resource "aws_chatbot_slack_channel_configuration" "this" {
  count = var.chatbot_slack == null ? 0 : 1

  # Channel configurations are global to the account: the region keeps two
  # regional watchers from colliding.
  configuration_name          = coalesce(var.chatbot_slack.configuration_name, "${var.name}-${local.region}")
  iam_role_arn                = aws_iam_role.chatbot[0].arn
  slack_team_id               = var.chatbot_slack.slack_team_id
  slack_channel_id            = var.chatbot_slack.slack_channel_id
  sns_topic_arns              = [aws_sns_topic.this.arn]
  logging_level               = var.chatbot_slack.logging_level
  user_authorization_required = var.chatbot_slack.user_authorization_required

  # Guardrails cap what anyone can do from the channel; the default only reads
  # CloudWatch, which is what alarm notifications need.
  guardrail_policy_arns = var.chatbot_slack.guardrail_policy_arns != null ? var.chatbot_slack.guardrail_policy_arns : [
    "arn:${local.partition}:iam::aws:policy/CloudWatchReadOnlyAccess",
  ]

  tags = local.tags
}
