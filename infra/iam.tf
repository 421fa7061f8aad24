################################################################################
# One role per function, with only the calls that function makes.
#
# Every statement names its resources. "*" appears only where the action has no
# resource-level permissions (AWS requires "*"); each such line says so, and
# most of them are narrowed by a condition key instead.
################################################################################

locals {
  table_arn = try(aws_dynamodb_table.this[0].arn, null)
  index_arn = try("${aws_dynamodb_table.this[0].arn}/index/due-index", null)

  # ECS resources of the watched clusters, or of every cluster in this account
  # and region when none are listed.
  ecs_cluster_arns = local.filter_clusters ? var.cluster_arns : [local.cluster_arn_pattern]
  ecs_service_arns = local.filter_clusters ? [for arn in var.cluster_arns : "${replace(arn, ":cluster/", ":service/")}/*"] : ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/*/*"]
  ecs_task_arns    = local.filter_clusters ? [for arn in var.cluster_arns : "${replace(arn, ":cluster/", ":task/")}/*"] : ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/*/*"]
  # Service deployments (ECS-native blue/green, linear, canary; lifecycle hooks):
  # ...:service-deployment/CLUSTER/SERVICE/ID.
  ecs_service_deployment_arns = local.filter_clusters ? [for arn in var.cluster_arns : "${replace(arn, ":cluster/", ":service-deployment/")}/*/*"] : ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:service-deployment/*/*/*"]

  # Which documents make up each function's policy: each of these documents
  # exists for the functions that need it.
  function_policy_documents = {
    for fn in local.function_names : fn => [
      for doc in [
        data.aws_iam_policy_document.runtime,
        data.aws_iam_policy_document.rollout_state,
        data.aws_iam_policy_document.sweeper,
        data.aws_iam_policy_document.slack_webhook,
        data.aws_iam_policy_document.queued_events,
      ] : doc[fn].json if contains(keys(doc), fn)
    ]
  }

  # The functions that track rollouts (state table, alert topic, ECS reads).
  rollout_functions = [for fn in local.function_names : fn if fn != "slack-notifier"]

  slack_secret_is_ssm = var.slack_notifier == null ? false : can(regex("^arn:[^:]+:ssm:", var.slack_notifier.webhook_secret_arn))
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Role names are global to the account, so they carry the region: the same
# `name` deploys in two regions of one account.
resource "aws_iam_role" "this" {
  for_each = toset(local.function_names)

  name                 = "${local.role_name_prefix}-${local.function_role_suffixes[each.key]}"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Execution role of the ${var.name}-${each.key} function in ${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  tags                 = local.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = toset(local.function_names)

  name   = "${each.key}-least-privilege"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

data "aws_iam_policy_document" "function" {
  for_each = toset(local.function_names)

  source_policy_documents = local.function_policy_documents[each.key]
}

################################################################################
# What every function needs: its logs, its dead-letter queue, the key, metrics
################################################################################

data "aws_iam_policy_document" "runtime" {
  for_each = toset(local.function_names)

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid       = "SendFailedInvocationsToOwnDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.function_dlq[each.key].arn]
  }

  # Encrypt to the topic and the dead-letter queue, decrypt the environment.
  statement {
    sid       = "UseModuleKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }

  dynamic "statement" {
    for_each = var.metrics_sink == "cloudwatch" ? [1] : []
    content {
      sid       = "PutMetricsInWatcherNamespaceOnly"
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"] # AWS requires "*": PutMetricData has no resource type; the namespace condition scopes it.
      condition {
        test     = "StringEquals"
        variable = "cloudwatch:namespace"
        values   = [var.metric_namespace]
      }
    }
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      resources = ["*"] # AWS requires "*": X-Ray write actions have no resource type.
    }
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [1]
    content {
      sid = "ManageVpcNetworkInterfaces"
      actions = [
        "ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces", "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"] # AWS requires "*": ec2:DescribeNetworkInterfaces has no resource type and Lambda picks the interfaces.
    }
  }
}

################################################################################
# ecs-event-handler and rollout-sweeper: state table, alert topic, ECS reads
################################################################################

data "aws_iam_policy_document" "rollout_state" {
  for_each = toset(local.rollout_functions)

  # The calls the store makes: GetItem, Query, and conditional writes through
  # PutItem and TransactWriteItems, whose Put items are authorized as
  # dynamodb:PutItem (no action of its own). A queued batch writes its services
  # in one PartiQL BatchExecuteStatement, whose statements are authorized each as
  # its own kind: an INSERT of a new service's item (PartiQLInsert), an UPDATE of
  # an existing one at its revision (PartiQLUpdate). Items expire by TTL; nothing
  # deletes.
  statement {
    sid = "ReadWriteStateItems"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PutItem",
      "dynamodb:Query",
    ]
    resources = [local.table_arn]
  }

  statement {
    sid       = "QueryDueIndex"
    actions   = ["dynamodb:Query"]
    resources = [local.index_arn]
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]
  }

  statement {
    sid       = "DescribeWatchedServices"
    actions   = ["ecs:DescribeServices", "ecs:ListTagsForResource"]
    resources = local.ecs_service_arns
  }

  # The Service Authorization Reference: ListServiceDeployments authorizes on the
  # service (required resource type `service`); DescribeServiceDeployments on
  # the service and on the service deployment (both required), so it names both.
  statement {
    sid       = "ListDeploymentsOfWatchedServices"
    actions   = ["ecs:ListServiceDeployments"]
    resources = local.ecs_service_arns
  }

  statement {
    sid       = "DescribeDeploymentsOfWatchedServices"
    actions   = ["ecs:DescribeServiceDeployments"]
    resources = concat(local.ecs_service_arns, local.ecs_service_deployment_arns)
  }

  statement {
    sid       = "DescribeWatchedTasks"
    actions   = ["ecs:DescribeTasks"]
    resources = local.ecs_task_arns
  }

  statement {
    sid       = "ListTasksOfWatchedClusters"
    actions   = ["ecs:ListTasks"]
    resources = ["*"] # AWS requires "*": ListTasks only accepts container-instance ARNs; the ecs:cluster condition scopes it.
    condition {
      test     = "ArnLike"
      variable = "ecs:cluster"
      values   = local.ecs_cluster_arns
    }
  }
}

data "aws_iam_policy_document" "sweeper" {
  for_each = toset([for fn in local.function_names : fn if fn == "rollout-sweeper"])

  statement {
    sid       = "ListServicesOfWatchedClusters"
    actions   = ["ecs:ListServices"]
    resources = ["*"] # AWS requires "*": ListServices has no resource type; the ecs:cluster condition scopes it.
    condition {
      test     = "ArnLike"
      variable = "ecs:cluster"
      values   = local.ecs_cluster_arns
    }
  }
}

################################################################################
# ecs-event-handler in queue mode: what its event source mapping needs
################################################################################

# The mapping polls with the function's role: receive, delete what the handler
# took, read the queue's attributes (the three calls AWS documents for an SQS
# mapping), and change a received message's visibility, which AWS's CDK grants
# an SQS event source as well: it only decides when a message of this queue is
# seen again. Decrypting the messages is UseModuleKey's kms:Decrypt (the queue
# uses the module key).
data "aws_iam_policy_document" "queued_events" {
  for_each = toset(local.event_queue ? ["ecs-event-handler"] : [])

  statement {
    sid       = "ReceiveQueuedEvents"
    actions   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    resources = [aws_sqs_queue.events[0].arn]
  }
}

################################################################################
# slack-notifier: the one webhook secret
################################################################################

data "aws_iam_policy_document" "slack_webhook" {
  for_each = toset([for fn in local.function_names : fn if fn == "slack-notifier"])

  statement {
    sid       = "ReadWebhookSecret"
    actions   = local.slack_secret_is_ssm ? ["ssm:GetParameter"] : ["secretsmanager:GetSecretValue"]
    resources = [var.slack_notifier.webhook_secret_arn]
  }

  dynamic "statement" {
    for_each = var.slack_notifier.secret_kms_key_arn == null ? [] : [var.slack_notifier.secret_kms_key_arn]
    content {
      sid       = "DecryptWebhookSecret"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.slack_secret_is_ssm ? "ssm.${local.region}.amazonaws.com" : "secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

################################################################################
# EventBridge Scheduler: invoke the sweeper, dead-letter undelivered ticks
################################################################################

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    sid     = "SchedulerAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = var.create ? 1 : 0

  name                 = "${local.role_name_prefix}-scheduler"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "EventBridge Scheduler role that starts the ${var.name} sweeper in ${local.region}"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  tags                 = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.create ? 1 : 0

  name   = "invoke-sweeper"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

data "aws_iam_policy_document" "scheduler" {
  count = var.create ? 1 : 0

  statement {
    sid       = "InvokeSweeper"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this["rollout-sweeper"].arn]
  }

  statement {
    sid       = "DeadLetterUndeliveredTicks"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivery_dlq[0].arn]
  }

  statement {
    sid       = "UseModuleKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
}

################################################################################
# Amazon Q Developer in chat applications: the channel role
################################################################################

data "aws_iam_policy_document" "chatbot_assume" {
  count = local.create_chatbot ? 1 : 0

  statement {
    sid     = "ChatbotAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["chatbot.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "chatbot" {
  count = local.create_chatbot ? 1 : 0

  name                 = "${local.role_name_prefix}-chatbot"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
  description          = "Channel role of the ${var.name} Slack channel (${local.region}) in Amazon Q Developer in chat applications"
  assume_role_policy   = data.aws_iam_policy_document.chatbot_assume[0].json
  tags                 = local.tags
}

resource "aws_iam_role_policy" "chatbot" {
  count = local.create_chatbot ? 1 : 0

  name   = "render-alarm-notifications"
  role   = aws_iam_role.chatbot[0].id
  policy = data.aws_iam_policy_document.chatbot[0].json
}

data "aws_iam_policy_document" "chatbot" {
  count = local.create_chatbot ? 1 : 0

  statement {
    sid       = "DescribeWatcherAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*"]
  }

  statement {
    sid       = "RenderAlarmGraphs"
    actions   = ["cloudwatch:GetMetricData", "cloudwatch:GetMetricWidgetImage"]
    resources = ["*"] # AWS requires "*": these CloudWatch read actions have no resource type.
  }
}
