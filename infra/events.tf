################################################################################
# EventBridge: ECS events -> ecs-event-handler, directly or through the event
# queue (var.event_delivery.mode; the queue and its mapping are in delivery.tf)
#
# The patterns live in event-patterns/*.json so that infra/tests loads the very
# same files into an EventBridge emulator. They use only top-level and
# nested-object fields (no matching inside arrays of objects), which keeps them
# cheap to evaluate and testable.
#
# The optional cluster filter is merged in here rather than in the files:
#  - service actions, task events and hook state changes carry detail.clusterArn
#    (a hook event's `resources` names the service deployment, and only in some
#    of AWS's examples);
#  - deployment state changes did not always (AWS's examples lack it), so they
#    are matched on their service ARN, resources[0] = ...:service/CLUSTER/NAME,
#    OR on detail.clusterArn: a service created before 2021 may keep its short
#    ARN (...:service/NAME, no cluster in it), and the handler places it in the
#    cluster its event names. Without a clusterArn such an event names no
#    cluster, and the handler could not use it anyway.
################################################################################

locals {
  event_pattern_files = {
    "deployment-state-change" = file("${path.module}/event-patterns/deployment-state-change.json")
    "hook-state-change"       = file("${path.module}/event-patterns/hook-state-change.json")
    "service-action"          = file("${path.module}/event-patterns/service-action.json")
    "task-state-change"       = file("${path.module}/event-patterns/task-state-change.json")
  }

  filter_clusters      = length(var.cluster_arns) > 0
  service_arn_prefixes = [for arn in var.cluster_arns : "${replace(arn, ":cluster/", ":service/")}/"]

  deployment_pattern = jsondecode(local.event_pattern_files["deployment-state-change"])
  hook_pattern       = jsondecode(local.event_pattern_files["hook-state-change"])
  service_pattern    = jsondecode(local.event_pattern_files["service-action"])
  task_pattern       = jsondecode(local.event_pattern_files["task-state-change"])

  # Both branches are JSON strings so that the conditional has one type.
  event_patterns = {
    "deployment-state-change" = !local.filter_clusters ? local.event_pattern_files["deployment-state-change"] : jsonencode(merge(local.deployment_pattern, {
      "$or" = [
        { resources = [for prefix in local.service_arn_prefixes : { prefix = prefix }] },
        { detail = { clusterArn = var.cluster_arns } },
      ]
    }))
    "hook-state-change" = !local.filter_clusters ? local.event_pattern_files["hook-state-change"] : jsonencode(merge(local.hook_pattern, {
      detail = { clusterArn = var.cluster_arns }
    }))
    "service-action" = !local.filter_clusters ? local.event_pattern_files["service-action"] : jsonencode(merge(local.service_pattern, {
      detail = merge(local.service_pattern.detail, { clusterArn = var.cluster_arns })
    }))
    "task-state-change" = !local.filter_clusters ? local.event_pattern_files["task-state-change"] : jsonencode(merge(local.task_pattern, {
      detail = merge(local.task_pattern.detail, { clusterArn = var.cluster_arns })
    }))
  }

  # The rules created: none when var.create is false.
  event_rules = var.create ? local.event_patterns : {}

  # How the rules reach the handler, decided by the input alone (known at plan
  # time): through the FIFO event queue, or by invoking it once per event.
  event_queue        = var.create && var.event_delivery.mode == "queue"
  direct_event_rules = { for key, pattern in local.event_rules : key => pattern if var.event_delivery.mode == "direct" }

  event_rule_descriptions = {
    "deployment-state-change" = "ECS deployment state changes (in progress, completed, failed) for rollout-watcher"
    "hook-state-change"       = "ECS lifecycle hook state changes (in progress, awaiting action, succeeded, failed, timed out) of blue/green, linear and canary deployments for rollout-watcher"
    "service-action"          = "ECS service actions rollout-watcher acts on (start impaired, placement and configuration failures, deployments); not steady-state noise"
    "task-state-change"       = "ECS task state changes of service tasks (group service:*) for rollout-watcher"
  }

  # What another account's default bus must forward (see README, "Cross-account").
  forwarding_event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Deployment State Change", "ECS Hook State Change", "ECS Service Action", "ECS Task State Change"]
  })
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.event_rules

  name           = "${var.name}-${each.key}"
  description    = local.event_rule_descriptions[each.key]
  event_bus_name = var.event_bus_name
  event_pattern  = each.value
  tags           = local.tags
}

# The target keeps its id in both modes, so that switching modes updates it in
# place instead of removing and adding it.
resource "aws_cloudwatch_event_target" "this" {
  for_each = local.event_rules

  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = var.event_bus_name
  target_id      = "ecs-event-handler"
  arn            = local.event_queue ? aws_sqs_queue.events[0].arn : aws_lambda_function.this["ecs-event-handler"].arn

  # One static group for every rule: the whole account's events in one order,
  # read by one invocation at a time. The body is the event as EventBridge
  # delivers it (no input transformer), which the handler decodes.
  dynamic "sqs_target" {
    for_each = local.event_queue ? ["ecs-events"] : []
    content {
      message_group_id = sqs_target.value
    }
  }

  retry_policy {
    maximum_event_age_in_seconds = var.event_delivery.maximum_event_age_in_seconds
    maximum_retry_attempts       = var.event_delivery.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.delivery_dlq[0].arn
  }

  # What lets the rules deliver, the queue's policy and the mapping that reads
  # the queue or (direct mode) the handler's permissions, exists before a
  # target points there. Otherwise events would fail to the delivery
  # dead-letter queue in between. When the mode changes, the old destination
  # must go only after the targets have moved away, which depends_on alone does
  # not give: Terraform destroys a resource that left the configuration BEFORE
  # it updates what depended on it, unless that resource is
  # create_before_destroy. Hence the lifecycle blocks on the permissions, the
  # queue, its policy and the mapping (test_apply.py checks the order in a
  # swap's log). Terraform does not wait for the queue to drain: README,
  # "Switching modes".
  depends_on = [aws_sqs_queue_policy.events, aws_lambda_permission.events, aws_lambda_event_source_mapping.events]
}

# Direct mode only: in queue mode nothing but the event source mapping invokes
# the handler.
resource "aws_lambda_permission" "events" {
  for_each = local.direct_event_rules

  # A generated suffix: a replacement (a rule replaced, say) creates the new
  # statement before it deletes the old one, on the same function.
  statement_id_prefix = "AllowEventBridge-${each.key}-"
  action              = "lambda:InvokeFunction"
  function_name       = aws_lambda_function.this["ecs-event-handler"].function_name
  principal           = "events.amazonaws.com"
  source_arn          = aws_cloudwatch_event_rule.this[each.key].arn

  # On a switch to queue mode, removed only after the targets have moved to
  # the queue (see the targets' depends_on).
  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# EventBridge Scheduler: a sweeper tick every minute (var.sweep_schedule)
#
# The payload is an EventBridge-style envelope ("Scheduled Event" from
# aws.scheduler, time = the scheduled instant), so the sweeper can read it as an
# ordinary EventBridge event or ignore it.
################################################################################

resource "aws_scheduler_schedule" "this" {
  count = var.create ? 1 : 0

  name                         = "${var.name}-sweeper"
  description                  = "rollout-watcher sweeper tick: stalled-rollout deadlines, zero-running reconciliation, outbox retries"
  schedule_expression          = var.sweep_schedule
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = local.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this["rollout-sweeper"].arn
    role_arn = aws_iam_role.scheduler[0].arn
    input = jsonencode({
      version       = "0"
      id            = "<aws.scheduler.execution-id>"
      "detail-type" = "Scheduled Event"
      source        = "aws.scheduler"
      account       = local.account_id
      time          = "<aws.scheduler.scheduled-time>"
      region        = local.region
      resources     = ["<aws.scheduler.schedule-arn>"]
      detail        = {}
    })

    retry_policy {
      maximum_event_age_in_seconds = var.event_delivery.maximum_event_age_in_seconds
      maximum_retry_attempts       = var.event_delivery.maximum_retry_attempts
    }

    dead_letter_config {
      arn = aws_sqs_queue.delivery_dlq[0].arn
    }
  }
}

################################################################################
# Cross-account: let other accounts' buses forward their ECS events here.
# Permissions are added statement by statement (PutPermission), so an existing
# policy on the bus is kept.
################################################################################

resource "aws_cloudwatch_event_permission" "accounts" {
  for_each = toset(var.create ? var.event_source_account_ids : [])

  event_bus_name = var.event_bus_name
  statement_id   = "${var.name}-${each.key}"
  principal      = each.key
  action         = "events:PutEvents"
}

resource "aws_cloudwatch_event_permission" "organization" {
  count = var.create && var.event_source_organization_id != null ? 1 : 0

  event_bus_name = var.event_bus_name
  statement_id   = "${var.name}-organization"
  principal      = "*"
  action         = "events:PutEvents"

  condition {
    key   = "aws:PrincipalOrgID"
    type  = "StringEquals"
    value = var.event_source_organization_id
  }
}
