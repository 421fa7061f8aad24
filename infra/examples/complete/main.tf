provider "aws" {
  region = var.region
}

locals {
  name = "rollout-watcher-${var.environment}"
}

module "rollout_watcher" {
  source = "../.."

  name        = local.name
  environment = var.environment
  tags        = { team = "platform", environment = var.environment }

  # Zips from `make package` at the repository root, or, on a machine without
  # Rust, the ones `make publish` uploaded:
  #   lambda_package = { s3_bucket = "my-artifacts", s3_key_prefix = "rollout-watcher/1.0.0/" }
  lambda_package = { local_dir = var.lambda_zip_dir }
  architecture   = "arm64"

  # IAM conventions of the account: a path for the roles and the boundary every
  # role must carry.
  role_path                 = "/rollout-watcher/"
  role_permissions_boundary = var.role_permissions_boundary

  # Teardown: `terraform destroy` works while this is false. Set it to true
  # for production; to tear down later, set it back to false and apply first.
  table_deletion_protection    = var.table_deletion_protection
  kms_key_deletion_window_days = 7

  # Only these clusters: rules filter on them, ECS permissions are limited to
  # them, and the sweeper reconciles every service in them.
  cluster_arns = var.cluster_arns
  services     = var.services

  stall_after_minutes        = 20
  zero_running_grace_seconds = 30
  notify_info                = true
  metrics_sink               = "emf"
  sweeper                    = { max_services_per_tick = 200 }

  # ECS events reach the handler through the SQS FIFO event queue, in batches,
  # one batch at a time: a service of hundreds of tasks rolling gets one writer
  # instead of racing invocations. A message the handler fails on 5 times moves
  # to the event dead-letter queue (alarmed); an event waiting more than 10
  # minutes raises the event-queue-behind alarm.
  event_delivery = {
    mode                    = "queue"
    max_receive_count       = 5
    queue_age_alarm_minutes = 10
  }

  # No reserved concurrency (the default): a reservation must leave 100
  # executions unreserved, which a new account's quota does not allow.
  functions = {
    ecs_event_handler = { memory_size = 256 }
  }
  log_retention_days = 90

  # Alerts: email for critical only, an incident queue for failures and
  # downtime, an optional on-call HTTPS endpoint, Slack through the notifier,
  # and optionally Amazon Q Developer in chat applications.
  email_subscriptions = var.alert_emails
  email_severities    = ["critical"]

  subscriptions = merge(
    {
      incidents = {
        protocol             = "sqs"
        endpoint             = aws_sqs_queue.incidents.arn
        alerts               = ["deployment_failed", "deployment_rolled_back", "zero_running_tasks", "deployment_stalled"]
        statuses             = ["firing"]
        raw_message_delivery = true
      }
    },
    var.oncall_https_endpoint == null ? {} : {
      oncall = {
        protocol   = "https"
        endpoint   = var.oncall_https_endpoint
        severities = ["critical"]
      }
    },
  )

  slack_notifier = {
    webhook_secret_arn = aws_secretsmanager_secret.slack_webhook.arn
    severities         = ["warning", "critical"]
  }

  chatbot_slack = var.chatbot_slack

  alarms = {
    ok_actions                           = true
    zero_task_downtime_threshold_seconds = 0
    running_task_evaluation_minutes      = 3
  }

  # One watcher for the organisation: these accounts forward their ECS events.
  event_source_account_ids = var.event_source_account_ids
}

################################################################################
# The Slack incoming webhook URL, kept in Secrets Manager.
# After apply:
#   aws secretsmanager put-secret-value --secret-id <name> --secret-string 'https://hooks.slack.com/services/...'
################################################################################

resource "aws_secretsmanager_secret" "slack_webhook" {
  #checkov:skip=CKV2_AWS_57:A Slack incoming webhook URL cannot be rotated by a Lambda; it is replaced by hand in Slack and then in the secret.
  name        = "${local.name}/slack-webhook"
  description = "Slack incoming webhook URL used by the ${local.name} slack-notifier"
  kms_key_id  = module.rollout_watcher.kms_key_arn

  # 0 deletes the secret at once on destroy, so the example can be applied
  # again under the same name; Secrets Manager's default keeps a deleted secret
  # (and its name) for 30 days.
  recovery_window_in_days = var.secret_recovery_window_in_days
}

################################################################################
# An incident queue subscribed to the alert topic (for example, consumed by an
# incident tool). Encrypted with the watcher's key, which already lets SNS use it.
################################################################################

resource "aws_sqs_queue" "incidents" {
  name                              = "${local.name}-incidents"
  kms_master_key_id                 = module.rollout_watcher.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600
}

resource "aws_sqs_queue_policy" "incidents" {
  queue_url = aws_sqs_queue.incidents.id
  policy    = data.aws_iam_policy_document.incidents.json
}

data "aws_iam_policy_document" "incidents" {
  statement {
    sid = "AlertTopicDelivers"
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.incidents.arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [module.rollout_watcher.alert_topic_arn]
    }
  }
}
