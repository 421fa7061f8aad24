data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `name` is deprecated in provider 6 in favour of `region`, which provider 5
  # lacks; `name` works with both.
  region = data.aws_region.current.name

  tags = merge({ "rollout-watcher" = var.name }, var.tags)

  # The functions, by the names `make package` gives their zips. The notifier
  # exists only when a webhook secret is configured. Every for_each over them is
  # empty when var.create is false.
  function_names = var.create ? concat(
    ["ecs-event-handler", "rollout-sweeper"],
    var.slack_notifier == null ? [] : ["slack-notifier"],
  ) : []

  # Short names for account-wide resources, which carry the region.
  function_role_suffixes = {
    "ecs-event-handler" = "handler"
    "rollout-sweeper"   = "sweeper"
    "slack-notifier"    = "notifier"
  }

  # IAM role names are global to the account: <name>-<region>-<role>, at most
  # 32 + 1 + 14 (the longest region names, such as ap-southeast-2) + 1 + 9 = 57
  # characters, under IAM's 64.
  role_name_prefix = "${var.name}-${local.region}"
  function_settings = {
    "ecs-event-handler" = var.functions.ecs_event_handler
    "rollout-sweeper"   = var.functions.rollout_sweeper
    "slack-notifier"    = var.functions.slack_notifier
  }

  # Cluster scoping. The sweeper can only describe clusters of its own account,
  # so WATCH_CLUSTERS leaves forwarded accounts' clusters out (their services are
  # still followed through events).
  local_cluster_arns  = [for arn in var.cluster_arns : arn if element(split(":", arn), 4) == local.account_id]
  watch_clusters      = var.sweeper.reconcile_watched_clusters ? join(",", local.local_cluster_arns) : ""
  cluster_arn_pattern = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/*"

  # Decided by booleans known at plan time, never by whether an ARN is null: an
  # ARN created in the same configuration is unknown until apply, and a count
  # that depends on it cannot be planned.
  create_kms_key   = var.create && var.create_kms_key
  create_sns_topic = var.create && var.create_sns_topic
  kms_key_arn      = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn
  topic_arn        = local.create_sns_topic ? aws_sns_topic.this[0].arn : var.sns_topic_arn
  topic_name       = local.topic_arn == null ? "" : element(split(":", local.topic_arn), 5)
  create_chatbot   = var.create && var.chatbot_slack != null

  alert_names = [
    "deployment_started", "deployment_completed", "deployment_failed", "deployment_rolled_back",
    "health_check_failed", "task_failed_to_start", "task_start_impaired", "task_placement_failed",
    "zero_running_tasks", "deployment_stalled", "unsafe_deployment_config", "deployment_paused",
    "lifecycle_hook_failed", "task_crashed", "crash_loop",
  ]
}

################################################################################
# KMS key shared by the table, topic, queues, logs and function environments
################################################################################

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "${var.name}: rollout-watcher state, alerts, queues and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This is a key policy: its Resource "*" is the key itself, and only the account root (IAM decides who) may administer it.
  #checkov:skip=CKV_AWS_111:This is a key policy: its Resource "*" is the key itself; the service principals are limited by conditions or to encrypt/decrypt.
  #checkov:skip=CKV_AWS_356:This is a key policy, where AWS requires Resource "*" and it means only this key.
  count = local.create_kms_key ? 1 : 0

  # Key administration stays with the account (IAM decides who), spelled out
  # action by action instead of kms:*.
  statement {
    sid = "AccountAdministersKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt",
      "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation",
      "kms:EnableKey", "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:ListGrants", "kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy",
      "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant", "kms:RevokeGrant",
      "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
      "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ]
    # A key policy's resource is always the key itself.
    resources = ["*"] # AWS requires "*" in a key policy: it means this key.
  }

  # CloudWatch Logs encrypts the functions' log groups, and only those.
  statement {
    sid = "CloudWatchLogsEncryptsLogGroups"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    resources = ["*"] # AWS requires "*" in a key policy: it means this key.
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}-*"]
    }
  }

  # Alarms publish to the encrypted topic. This is the statement AWS documents
  # for alarm actions on an encrypted topic; CloudWatch does not pass a source
  # account to KMS on that path, so it carries no condition.
  statement {
    sid = "CloudWatchAlarmsPublishToTopic"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"] # AWS requires "*" in a key policy: it means this key.
  }

  # EventBridge (rule targets) and SNS (subscription redrive) write failed
  # deliveries to the encrypted dead-letter queue, and in queue mode EventBridge
  # sends the events to the encrypted event queue (delivery.tf): SQS encrypts
  # with the sender's access to the key, and these two actions are what
  # EventBridge needs to send to a queue under a customer managed key. Only on
  # this account's behalf.
  statement {
    sid = "EventBridgeAndSnsWriteDeadLetters"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "sns.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"] # AWS requires "*" in a key policy: it means this key.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
