################################################################################
# CloudWatch dashboard: rollouts per service, totals, and the watcher's health.
# Per-service graphs use SEARCH, so services appear as soon as they emit.
################################################################################

locals {
  # '{"Namespace",ClusterName,ServiceName}' selects every service of the namespace.
  dashboard_search_schema = "{\"${var.metric_namespace}\",ClusterName,ServiceName}"

  # Totals over every service for the dashboard's time range, as single numbers.
  dashboard_totals = {
    title   = "Rollouts, all services"
    metrics = ["DeploymentStarted", "DeploymentSucceeded", "DeploymentFailed", "DeploymentRolledBack", "DeploymentStalled"]
  }

  # Per-service graphs.
  dashboard_panels = [
    { title = "Deployments started and succeeded", stat = "Sum", metrics = ["DeploymentStarted", "DeploymentSucceeded"] },
    { title = "Deployments failed, rolled back or stalled", stat = "Sum", metrics = ["DeploymentFailed", "DeploymentRolledBack", "DeploymentStalled"] },
    { title = "Deployment duration (s, p90)", stat = "p90", metrics = ["DeploymentDuration"] },
    { title = "Time to first running task (s, max)", stat = "Maximum", metrics = ["TimeToFirstRunningTask"] },
    { title = "Zero-task downtime (s, max)", stat = "Maximum", metrics = ["ZeroTaskDowntime"] },
    { title = "Running tasks (min)", stat = "Minimum", metrics = ["RunningTaskCount"] },
    { title = "Health check failures, tasks that failed to start, task crashes", stat = "Sum", metrics = ["HealthCheckFailures", "TaskStartFailures", "TaskCrashes"] },
    { title = "Lifecycle hook failures", stat = "Sum", metrics = ["LifecycleHookFailures"] },
    { title = "Time paused awaiting action (s, max)", stat = "Maximum", metrics = ["DeploymentPausedTime"] },
  ]

  # The watcher's own metrics, without service dimensions.
  dashboard_watcher = {
    title   = "Watcher: alerts and rejected events"
    metrics = ["AlertsPublished", "AlertPublishFailures", "EventsRejected"]
  }

  dashboard_lambda_metrics = ["Invocations", "Errors", "Throttles"]

  dashboard_widgets = concat(
    [
      {
        type   = "text"
        width  = 24
        height = 2
        properties = {
          markdown = join("", [
            "## rollout-watcher `${var.name}`\n",
            "ECS rollouts followed from EventBridge events. Alerts go to SNS topic `${local.topic_name}`; ",
            "metrics are in namespace `${var.metric_namespace}`. A failed, rolled-back or stalled rollout also raises an alert with its reason.",
          ])
        }
      },
      {
        type   = "metric"
        width  = 24
        height = 4
        properties = {
          title                = local.dashboard_totals.title
          view                 = "singleValue"
          region               = local.region
          period               = 3600
          setPeriodToTimeRange = true
          metrics = [
            for i, metric in local.dashboard_totals.metrics : [{
              id         = "t${i}"
              label      = metric
              expression = "SUM(SEARCH('${local.dashboard_search_schema} MetricName=\"${metric}\"', 'Sum', 3600))"
            }]
          ]
        }
      },
    ],
    [
      for panel in local.dashboard_panels : {
        type   = "metric"
        width  = 12
        height = 6
        properties = {
          title   = panel.title
          view    = "timeSeries"
          stacked = false
          region  = local.region
          period  = 300
          metrics = [
            for i, metric in panel.metrics : [{
              id         = "s${i}"
              expression = "SEARCH('${local.dashboard_search_schema} MetricName=\"${metric}\"', '${panel.stat}', 300)"
            }]
          ]
        }
      }
    ],
    [
      {
        type   = "metric"
        width  = 8
        height = 6
        properties = {
          title   = local.dashboard_watcher.title
          view    = "timeSeries"
          region  = local.region
          stat    = "Sum"
          period  = 300
          metrics = [for metric in local.dashboard_watcher.metrics : [var.metric_namespace, metric]]
        }
      },
      {
        type   = "metric"
        width  = 8
        height = 6
        properties = {
          title  = "Functions: invocations, errors, throttles"
          view   = "timeSeries"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            for pair in setproduct(local.function_names, local.dashboard_lambda_metrics) :
            ["AWS/Lambda", pair[1], "FunctionName", "${var.name}-${pair[0]}"]
          ]
        }
      },
      {
        type   = "metric"
        width  = 8
        height = 6
        properties = {
          title  = "Dead-letter queues (messages waiting)"
          view   = "timeSeries"
          region = local.region
          stat   = "Maximum"
          period = 300
          metrics = concat(
            [for fn in local.function_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${var.name}-${fn}-dlq"]],
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "${var.name}-delivery-dlq"]],
            local.event_queue ? [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.event_queue_dlq_name]] : [],
          )
        }
      },
    ],
    # Queue mode: how far behind the handler is.
    local.event_queue ? [
      {
        type   = "metric"
        width  = 24
        height = 6
        properties = {
          title  = "Event queue: events waiting, and age of the oldest (s)"
          view   = "timeSeries"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.event_queue_name],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", local.event_queue_name, { yAxis = "right" }],
          ]
        }
      }
    ] : [],
    local.alarms_enabled ? [
      {
        type   = "alarm"
        width  = 24
        height = 4
        properties = {
          title  = "Alarms"
          alarms = slice(local.dashboard_alarm_arns, 0, min(length(local.dashboard_alarm_arns), 100))
        }
      }
    ] : [],
  )

  dashboard_alarm_arns = concat(
    [for a in aws_cloudwatch_metric_alarm.deployment_failed : a.arn],
    [for a in aws_cloudwatch_metric_alarm.zero_task_downtime : a.arn],
    [for a in aws_cloudwatch_metric_alarm.running_tasks : a.arn],
    [for a in aws_cloudwatch_metric_alarm.deployment_stalled : a.arn],
    [for a in aws_cloudwatch_metric_alarm.lifecycle_hook_failed : a.arn],
    [for a in aws_cloudwatch_metric_alarm.namespace : a.arn],
    [for a in aws_cloudwatch_metric_alarm.watcher : a.arn],
    [for a in aws_cloudwatch_metric_alarm.function_errors : a.arn],
    [for a in aws_cloudwatch_metric_alarm.dead_letter_queue : a.arn],
    [for a in aws_cloudwatch_metric_alarm.event_queue_age : a.arn],
  )
}

# Dashboards are global to the account (not regional), so the name carries the
# region: the same `name` in two regions gets two dashboards.
resource "aws_cloudwatch_dashboard" "this" {
  count = var.create && var.dashboard_enabled ? 1 : 0

  dashboard_name = "${var.name}-${local.region}"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
