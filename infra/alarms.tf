################################################################################
# Alarms on the rollout metrics, and alarms that watch the watcher.
# All notify the alert topic (plus var.alarms.additional_actions).
#
# Metrics (namespace var.metric_namespace, dimensions ClusterName, ServiceName):
# DeploymentFailed, DeploymentRolledBack, DeploymentStalled,
# LifecycleHookFailures (Count), ZeroTaskDowntime (Seconds), RunningTaskCount
# (Count gauge); watcher health without dimensions: AlertPublishFailures,
# EventsRejected.
#
# DeploymentPausedTime (Seconds) is on the dashboard and has no alarm: it is
# emitted when a pause ends, so an alarm on it could only fire after the fact.
# A pause waiting for action is the deployment_paused alert (on the topic, the
# moment HOOK_AWAITING_ACTION arrives), and a pause that times out into a
# rollback is a lifecycle hook failure, which the alarms below do catch.
#
# With var.services listed, each service gets its own alarms. Without, one
# Metrics Insights query per alarm aggregates every service in the namespace
# (RunningTaskCount < 1 has no namespace-wide form: a service scaled to zero on
# purpose would hold it in ALARM).
################################################################################

locals {
  alarms_enabled = var.create && var.alarms.enabled
  alarm_actions  = concat([local.topic_arn], var.alarms.additional_actions)
  ok_actions     = var.alarms.ok_actions ? local.alarm_actions : []

  watched_services = local.alarms_enabled ? {
    for s in var.services : "${s.cluster_name}/${s.service_name}" => s
  } : {}

  # Quoted so that namespaces with / or . work inside SCHEMA(...).
  insights_schema = "SCHEMA(\"${var.metric_namespace}\", ClusterName, ServiceName)"

  namespace_alarm_definitions = {
    "deployment-failed" = {
      description = "A deployment failed (SERVICE_DEPLOYMENT_FAILED, circuit breaker or CloudWatch alarm) in some watched service. The alert on the topic names the service and the reason."
      query       = "SELECT SUM(DeploymentFailed) FROM ${local.insights_schema}"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
    "deployment-rolled-back" = {
      description = "A deployment was rolled back in some watched service: its new tasks never became healthy. The alert on the topic names the service and the deployment."
      query       = "SELECT SUM(DeploymentRolledBack) FROM ${local.insights_schema}"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
    "zero-task-downtime" = {
      description = "Some watched service had zero running tasks for longer than the tolerated downtime (seconds) during a rollout or otherwise."
      query       = "SELECT MAX(ZeroTaskDowntime) FROM ${local.insights_schema}"
      comparison  = "GreaterThanThreshold"
      threshold   = var.alarms.zero_task_downtime_threshold_seconds
    }
    "deployment-stalled" = {
      description = "A rollout is still in progress past its deadline (stall_after_minutes) in some watched service."
      query       = "SELECT SUM(DeploymentStalled) FROM ${local.insights_schema}"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
    "lifecycle-hook-failed" = {
      description = "A lifecycle hook of a blue/green, linear or canary deployment failed (or a pause timed out into a rollback) in some watched service: ECS rolls the deployment back. The alert on the topic names the hook and its stage."
      query       = "SELECT SUM(LifecycleHookFailures) FROM ${local.insights_schema}"
      comparison  = "GreaterThanOrEqualToThreshold"
      threshold   = 1
    }
  }
  namespace_alarms = local.alarms_enabled && length(var.services) == 0 ? local.namespace_alarm_definitions : {}

  watcher_alarm_definitions = {
    "alert-publish-failures" = {
      metric      = "AlertPublishFailures"
      description = "The watcher could not publish alerts to SNS. They wait in the outbox and are retried, but nobody is being told about rollouts right now."
    }
    "events-rejected" = {
      metric = "EventsRejected"
      description = local.event_queue ? (
        "The watcher rejected malformed ECS events: a retry cannot mend them, so the handler logged each at ERROR (message id, field error, body) and acknowledged it. Search the ecs-event-handler log group."
      ) : "The watcher rejected malformed ECS events (they are in the ecs-event-handler dead-letter queue with the reason)."
    }
  }
  watcher_alarms = local.alarms_enabled ? local.watcher_alarm_definitions : {}

  # The queues' names as queues.tf and delivery.tf give them, so that this
  # for_each depends on nothing computed.
  dead_letter_queues = local.alarms_enabled ? merge(
    { for fn in local.function_names : fn => "${var.name}-${fn}-dlq" },
    { delivery = "${var.name}-delivery-dlq" },
    local.event_queue ? { events = local.event_queue_dlq_name } : {},
  ) : {}
  dead_letter_queue_contents = {
    delivery = "events, sweeper ticks or alerts that could not be delivered"
    events   = "ECS events the ecs-event-handler failed on ${var.event_delivery.max_receive_count} times (every later event waited behind each try)"
  }
}

################################################################################
# Per watched service
################################################################################

resource "aws_cloudwatch_metric_alarm" "deployment_failed" {
  for_each = local.watched_services

  alarm_name          = "${var.name}-${each.value.cluster_name}-${each.value.service_name}-deployment-failed"
  alarm_description   = "A deployment of ${each.key} failed or was rolled back. The alert on the topic carries the reason, the task definition and a console link."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions

  metric_query {
    id          = "failed_or_rolled_back"
    expression  = "FILL(failed, 0) + FILL(rolled_back, 0)"
    label       = "Deployments failed or rolled back"
    return_data = true
  }

  metric_query {
    id = "failed"
    metric {
      namespace   = var.metric_namespace
      metric_name = "DeploymentFailed"
      dimensions  = { ClusterName = each.value.cluster_name, ServiceName = each.value.service_name }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "rolled_back"
    metric {
      namespace   = var.metric_namespace
      metric_name = "DeploymentRolledBack"
      dimensions  = { ClusterName = each.value.cluster_name, ServiceName = each.value.service_name }
      period      = 60
      stat        = "Sum"
    }
  }

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "zero_task_downtime" {
  for_each = local.watched_services

  alarm_name          = "${var.name}-${each.value.cluster_name}-${each.value.service_name}-zero-task-downtime"
  alarm_description   = "${each.key} had zero running tasks for longer than ${var.alarms.zero_task_downtime_threshold_seconds} seconds."
  namespace           = var.metric_namespace
  metric_name         = "ZeroTaskDowntime"
  dimensions          = { ClusterName = each.value.cluster_name, ServiceName = each.value.service_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarms.zero_task_downtime_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags
}

# Missing data is breaching: a service that stops reporting its running count
# (the sweeper reports it every tick) is as suspect as one that reports 0.
resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  for_each = { for key, s in local.watched_services : key => s if s.alarm_on_zero_running }

  alarm_name          = "${var.name}-${each.value.cluster_name}-${each.value.service_name}-no-running-tasks"
  alarm_description   = "${each.key} has had fewer than one running task (or no RunningTaskCount data) for ${var.alarms.running_task_evaluation_minutes} minutes."
  namespace           = var.metric_namespace
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = each.value.cluster_name, ServiceName = each.value.service_name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = var.alarms.running_task_evaluation_minutes
  datapoints_to_alarm = var.alarms.running_task_evaluation_minutes
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "deployment_stalled" {
  for_each = local.watched_services

  alarm_name          = "${var.name}-${each.value.cluster_name}-${each.value.service_name}-deployment-stalled"
  alarm_description   = "A rollout of ${each.key} is still in progress ${var.stall_after_minutes} minutes after it started."
  namespace           = var.metric_namespace
  metric_name         = "DeploymentStalled"
  dimensions          = { ClusterName = each.value.cluster_name, ServiceName = each.value.service_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lifecycle_hook_failed" {
  for_each = local.watched_services

  alarm_name          = "${var.name}-${each.value.cluster_name}-${each.value.service_name}-lifecycle-hook-failed"
  alarm_description   = "A lifecycle hook of a deployment of ${each.key} failed (or a pause timed out with timeout action ROLLBACK): ECS rolls the deployment back. The alert on the topic names the hook, its stage and the service deployment."
  namespace           = var.metric_namespace
  metric_name         = "LifecycleHookFailures"
  dimensions          = { ClusterName = each.value.cluster_name, ServiceName = each.value.service_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags
}

################################################################################
# Namespace-wide (no var.services): Metrics Insights over every service
################################################################################

resource "aws_cloudwatch_metric_alarm" "namespace" {
  for_each = local.namespace_alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions

  metric_query {
    id          = "q1"
    expression  = each.value.query
    period      = 60
    label       = each.key
    return_data = true
  }

  tags = local.tags
}

################################################################################
# The watcher's own health
################################################################################

resource "aws_cloudwatch_metric_alarm" "watcher" {
  for_each = local.watcher_alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = var.metric_namespace
  metric_name         = each.value.metric
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.alarms_enabled ? toset(local.function_names) : toset([])

  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "The ${each.key} function returned errors. Its log group and dead-letter queue hold the details."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this[each.key].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alarms.function_error_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_queue" {
  for_each = local.dead_letter_queues

  alarm_name          = "${var.name}-${each.key}-dlq-not-empty"
  alarm_description   = "Messages are waiting in ${each.value}: ${lookup(local.dead_letter_queue_contents, each.key, "invocations of ${each.key} that failed after all retries")}. Inspect them, fix the cause, then redrive or purge."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags

  # The queues are named, not referenced, in the for_each: wait for them.
  depends_on = [aws_sqs_queue.function_dlq, aws_sqs_queue.delivery_dlq, aws_sqs_queue.events_dlq]
}

# Queue mode: the oldest event has waited longer than queue_age_alarm_minutes,
# so alerts are late by as much. The default, 10 minutes, is more than three
# failed tries in a row (each holds the queue for the visibility timeout, 3
# minutes with the handler's default timeout): past it the handler is failing
# or cannot keep up, and the state it alerts from is that old.
resource "aws_cloudwatch_metric_alarm" "event_queue_age" {
  count = local.alarms_enabled && local.event_queue ? 1 : 0

  alarm_name          = "${var.name}-event-queue-behind"
  alarm_description   = "The oldest ECS event in ${local.event_queue_name} has waited more than ${var.event_delivery.queue_age_alarm_minutes} minutes: the ecs-event-handler is failing (see its errors alarm and log group) or cannot keep up, and alerts are late by as much."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = local.event_queue_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.event_delivery.queue_age_alarm_minutes * 60
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = local.tags

  depends_on = [aws_sqs_queue.events]
}
