################################################################################
# Alert topic
#
# One message per alert, with message attributes severity (info|warning|critical),
# alert (the alert name), cluster, service and status (firing|resolved) for
# subscription filter policies. The body is readable by Amazon Q Developer in
# chat applications and carries the full alert as JSON.
################################################################################

resource "aws_sns_topic" "this" {
  count = local.create_sns_topic ? 1 : 0

  name              = "${var.name}-alerts"
  display_name      = "rollout-watcher"
  kms_master_key_id = local.kms_key_arn
  signature_version = 2
  tags              = local.tags
}

# A topic passed in as sns_topic_arn keeps its own policy: the module never
# overwrites a policy it does not own (the README lists what it must allow).
resource "aws_sns_topic_policy" "this" {
  count = local.create_sns_topic ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

# Only the watcher publishes: the two functions that raise alerts, and this
# module's alarms. Nothing in the policy grants any other principal anything.
data "aws_iam_policy_document" "topic" {
  count = local.create_sns_topic ? 1 : 0

  statement {
    sid = "WatcherFunctionsPublish"
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.this["ecs-event-handler"].arn, aws_iam_role.this["rollout-sweeper"].arn]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this[0].arn]
  }

  statement {
    sid = "WatcherAlarmsPublish"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this[0].arn]
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
    resources = [aws_sns_topic.this[0].arn]
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

  subscriptions = var.create ? merge(local.email_subscriptions, var.subscriptions) : {}

  # Lambda subscriptions need the function to let the topic invoke it.
  lambda_subscriptions = { for key, s in local.subscriptions : key => s if s.protocol == "lambda" }

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

  # The module's CloudWatch alarms notify this topic too, and CloudWatch sets no
  # message attributes: SNS drops a message that lacks an attribute the policy
  # names, so a bare filter on `severity` would never deliver an alarm (the
  # default email filter included). Every watcher alert carries `alert`, so the
  # second branch admits exactly the messages that are not alerts: the alarms.
  alarms_pass = { alert = [{ exists = false }] }

  subscription_filter_policies = {
    for key, f in local.subscription_filters : key => length(f) == 0 ? null : jsonencode({ "$or" = [f, local.alarms_pass] })
  }
  slack_notifier_filter_policy = length(local.slack_notifier_filter) == 0 ? null : jsonencode({ "$or" = [local.slack_notifier_filter, local.alarms_pass] })
}

resource "aws_sns_topic_subscription" "this" {
  for_each = local.subscriptions

  topic_arn            = local.topic_arn
  protocol             = each.value.protocol
  endpoint             = each.value.endpoint
  raw_message_delivery = each.value.raw_message_delivery

  filter_policy       = local.subscription_filter_policies[each.key]
  filter_policy_scope = local.subscription_filter_policies[each.key] == null ? null : "MessageAttributes"

  # Email cannot be redriven; the others keep undeliverable alerts.
  redrive_policy = contains(["sqs", "https", "lambda"], each.value.protocol) ? jsonencode({
    deadLetterTargetArn = aws_sqs_queue.delivery_dlq[0].arn
  }) : null

  # A Lambda endpoint must accept the topic's invocations before the first alert.
  depends_on = [aws_lambda_permission.subscriptions]
}

################################################################################
# slack-notifier (optional): SNS -> Lambda -> Slack incoming webhook
################################################################################

# The function's resource policy lets the topic invoke it: for an endpoint
# arn:...:function:NAME:QUALIFIER, the permission goes on that alias or version.
# The statement id is unique (statement_id_prefix), so two watchers (two
# regions, two environments) may subscribe the same function.
resource "aws_lambda_permission" "subscriptions" {
  for_each = local.lambda_subscriptions

  statement_id_prefix = "${var.name}-alerts-"
  action              = "lambda:InvokeFunction"
  function_name       = join(":", slice(split(":", each.value.endpoint), 0, 7))
  qualifier           = length(split(":", each.value.endpoint)) == 8 ? element(split(":", each.value.endpoint), 7) : null
  principal           = "sns.amazonaws.com"
  source_arn          = local.topic_arn
}

resource "aws_sns_topic_subscription" "slack_notifier" {
  count = contains(local.function_names, "slack-notifier") ? 1 : 0

  topic_arn = local.topic_arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this["slack-notifier"].arn

  # The same filter the function applies (SEVERITY_FILTER, ALERT_FILTER), here
  # so that filtered-out alerts do not cost an invocation; the alarms pass (the
  # function posts them, ALARM as critical, OK as info).
  filter_policy       = local.slack_notifier_filter_policy
  filter_policy_scope = local.slack_notifier_filter_policy == null ? null : "MessageAttributes"

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.delivery_dlq[0].arn
  })
}

resource "aws_lambda_permission" "sns" {
  count = contains(local.function_names, "slack-notifier") ? 1 : 0

  statement_id  = "AllowAlertTopic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["slack-notifier"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = local.topic_arn
}

################################################################################
# Amazon Q Developer in chat applications (optional): topic -> Slack channel
################################################################################

resource "aws_chatbot_slack_channel_configuration" "this" {
  count = local.create_chatbot ? 1 : 0

  # Channel configurations are global to the account: the region keeps two
  # regional watchers from colliding.
  configuration_name          = coalesce(var.chatbot_slack.configuration_name, "${var.name}-${local.region}")
  iam_role_arn                = aws_iam_role.chatbot[0].arn
  slack_team_id               = var.chatbot_slack.slack_team_id
  slack_channel_id            = var.chatbot_slack.slack_channel_id
  sns_topic_arns              = [local.topic_arn]
  logging_level               = var.chatbot_slack.logging_level
  user_authorization_required = var.chatbot_slack.user_authorization_required

  # Guardrails cap what anyone can do from the channel; the default only reads
  # CloudWatch, which is what alarm notifications need.
  guardrail_policy_arns = var.chatbot_slack.guardrail_policy_arns != null ? var.chatbot_slack.guardrail_policy_arns : [
    "arn:${local.partition}:iam::aws:policy/CloudWatchReadOnlyAccess",
  ]

  tags = local.tags
}
