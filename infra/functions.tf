################################################################################
# The three Lambda functions, built by `make package` into
# <local_dir>/<function>/bootstrap.zip, or uploaded by `make publish` to
# s3://<bucket>/<prefix><architecture>/<function>/bootstrap.zip next to its
# base64 SHA-256 (custom runtime, binary `bootstrap`).
################################################################################

locals {
  function_descriptions = {
    "ecs-event-handler" = "rollout-watcher: follows ECS rollouts from EventBridge events, alerts over SNS, emits metrics"
    "rollout-sweeper"   = "rollout-watcher: fires stalled-rollout deadlines, reconciles zero-running services, drains the outbox"
    "slack-notifier"    = "rollout-watcher: posts alerts from the SNS topic to a Slack incoming webhook"
  }

  environment_label = var.environment == "" ? null : var.environment

  # Decided by local_dir, a path known at plan time, so that a bucket created in
  # the same configuration (its name unknown until apply) still plans.
  package_from_s3 = var.lambda_package.local_dir == null
  package_zips    = { for fn in local.function_names : fn => "${coalesce(var.lambda_package.local_dir, ".")}/${fn}/bootstrap.zip" }
  package_keys    = { for fn in local.function_names : fn => "${var.lambda_package.s3_key_prefix}${var.architecture}/${fn}/bootstrap.zip" }

  # Environment variables, by function. These names are the contract with the
  # Rust code (each function's Config::from_env); infra/tests checks that the code
  # reads every one of them. Null values are left out of the function.
  function_env = {
    "ecs-event-handler" = {
      STATE_TABLE       = try(aws_dynamodb_table.this[0].name, null)
      ALERT_TOPIC_ARN   = local.topic_arn
      METRICS_SINK      = var.metrics_sink
      METRICS_NAMESPACE = var.metric_namespace
      STALL_AFTER       = "${var.stall_after_minutes}m"
      ZERO_GRACE        = "${var.zero_running_grace_seconds}s"
      NOTIFY_INFO       = tostring(var.notify_info)
      ENVIRONMENT       = local.environment_label
      EVENT_DELIVERY    = var.event_delivery.mode
    }
    "rollout-sweeper" = {
      STATE_TABLE        = try(aws_dynamodb_table.this[0].name, null)
      ALERT_TOPIC_ARN    = local.topic_arn
      METRICS_SINK       = var.metrics_sink
      METRICS_NAMESPACE  = var.metric_namespace
      STALL_AFTER        = "${var.stall_after_minutes}m"
      ZERO_GRACE         = "${var.zero_running_grace_seconds}s"
      NOTIFY_INFO        = tostring(var.notify_info)
      ENVIRONMENT        = local.environment_label
      WATCH_CLUSTERS     = local.watch_clusters == "" ? null : local.watch_clusters
      SWEEP_MAX_SERVICES = var.sweeper.max_services_per_tick == null ? null : tostring(var.sweeper.max_services_per_tick)
    }
    "slack-notifier" = {
      SLACK_WEBHOOK_SECRET_ARN = try(var.slack_notifier.webhook_secret_arn, null)
      SEVERITY_FILTER          = length(try(var.slack_notifier.severities, [])) == 0 ? null : join(",", try(var.slack_notifier.severities, []))
      ALERT_FILTER             = length(try(var.slack_notifier.alerts, [])) == 0 ? null : join(",", try(var.slack_notifier.alerts, []))
      METRICS_NAMESPACE        = var.metric_namespace
      ENVIRONMENT              = local.environment_label
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days input (default 30 days). These are operational logs of a notifier, not an audit trail; a year of per-task-event logs would cost more than it is worth, and users who need it set the input.
  for_each = toset(local.function_names)

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

# The hash `make publish` stored next to each zip (text/plain, so Terraform can
# read it): a new upload under the same key changes it and deploys on the next
# apply; an unchanged one does not.
data "aws_s3_object" "package_hash" {
  for_each = toset(local.package_from_s3 ? local.function_names : [])

  bucket = var.lambda_package.s3_bucket
  key    = "${local.package_keys[each.key]}.base64sha256"
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Asynchronous failures go to an on-failure destination (aws_lambda_function_event_invoke_config.this, an encrypted SQS queue), which records the error and the request; a legacy dead_letter_config on top would deliver every failure twice.
  #checkov:skip=CKV_AWS_117:The functions only call AWS APIs and need no private network; VPC attachment is opt-in through var.vpc_config.
  #checkov:skip=CKV_AWS_272:Code signing is opt-in through var.code_signing_config_arn; the zips are built from this repository by `make package`.
  for_each = toset(local.function_names)

  function_name = "${var.name}-${each.key}"
  description   = local.function_descriptions[each.key]
  role          = aws_iam_role.this[each.key].arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]

  filename         = local.package_from_s3 ? null : local.package_zips[each.key]
  s3_bucket        = local.package_from_s3 ? var.lambda_package.s3_bucket : null
  s3_key           = local.package_from_s3 ? local.package_keys[each.key] : null
  source_code_hash = local.package_from_s3 ? trimspace(data.aws_s3_object.package_hash[each.key].body) : filebase64sha256(local.package_zips[each.key])

  memory_size                    = local.function_settings[each.key].memory_size
  timeout                        = local.function_settings[each.key].timeout
  reserved_concurrent_executions = local.function_settings[each.key].reserved_concurrent_executions

  kms_key_arn             = local.kms_key_arn
  code_signing_config_arn = var.code_signing_config_arn

  environment {
    variables = { for k, v in local.function_env[each.key] : k => v if v != null }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this[each.key].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = local.tags

  # The role's policy must exist before the first invocation, and the log group
  # before Lambda would create an unencrypted one with no retention.
  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]

  lifecycle {
    # The variable's validation checks the two zips every deployment needs; the
    # notifier's is needed only with slack_notifier.
    precondition {
      condition     = local.package_from_s3 || fileexists(local.package_zips[each.key])
      error_message = "No ${each.key}/bootstrap.zip in lambda_package.local_dir: run `make package` at the repository root, which builds all three functions."
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = toset(local.function_names)

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = var.async_invoke.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async_invoke.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.function_dlq[each.key].arn
    }
  }
}
