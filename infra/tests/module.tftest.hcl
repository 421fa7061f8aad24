# Native Terraform tests with a mocked AWS provider: no credentials, no calls.
# test_terraform.py runs them (`terraform test`) wherever a terraform binary and
# the AWS provider (a plugin mirror) are available; they need Terraform >= 1.7.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0" }
  }
  # The provider validates ARNs even of mocked values.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mocked", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mocked" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mocked" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mocked" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/mocked" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/mocked" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mocked" }
  }
  # What `make publish` stores next to each zip.
  mock_data "aws_s3_object" {
    defaults = { body = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" }
  }
}

# Queue delivery: rules -> one SQS FIFO queue -> event source mapping ->
# handler. The queues and the handler get ARNs of their own here, so
# that the assertions can tell them apart: overrides apply when a resource is
# created, and the runs share one state, so this run comes first.
run "queue_delivery" {
  command = apply

  variables {
    event_delivery = { mode = "queue" }
  }

  override_resource {
    target = aws_sqs_queue.events[0]
    values = { arn = "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/rollout-watcher-events.fifo" }
  }
  override_resource {
    target = aws_sqs_queue.events_dlq[0]
    values = { arn = "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events-dlq.fifo", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/rollout-watcher-events-dlq.fifo" }
  }
  override_resource {
    target = aws_lambda_function.this["ecs-event-handler"]
    values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:rollout-watcher-ecs-event-handler" }
  }

  assert {
    condition = alltrue([
      aws_sqs_queue.events[0].name == "rollout-watcher-events.fifo",
      aws_sqs_queue.events[0].fifo_queue,
      aws_sqs_queue.events[0].content_based_deduplication,
      aws_sqs_queue.events[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
      # Six times the handler's 30-second timeout (AWS's advice for a mapping).
      aws_sqs_queue.events[0].visibility_timeout_seconds == 180,
      jsondecode(aws_sqs_queue.events[0].redrive_policy) == { deadLetterTargetArn = "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events-dlq.fifo", maxReceiveCount = 5 },
      aws_sqs_queue.events_dlq[0].name == "rollout-watcher-events-dlq.fifo",
      aws_sqs_queue.events_dlq[0].fifo_queue,
      aws_sqs_queue.events_dlq[0].kms_master_key_id == aws_sqs_queue.events[0].kms_master_key_id,
      # Four days in the queue, 14 in the dead-letter queue: a dead letter
      # outlives the events still queued behind it.
      aws_sqs_queue.events[0].message_retention_seconds == 345600,
      aws_sqs_queue.events_dlq[0].message_retention_seconds == 1209600,
    ])
    error_message = "The event queue is FIFO, deduplicated by content, encrypted with the module key, hidden six handler timeouts while a batch runs, keeps events 4 days, and dead-letters to a FIFO queue that keeps them 14 days after 5 receives."
  }

  assert {
    condition = alltrue([for key, target in aws_cloudwatch_event_target.this : alltrue([
      target.arn == "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo",
      length(target.sqs_target) == 1 && target.sqs_target[0].message_group_id == "ecs-events",
      target.dead_letter_config[0].arn == aws_sqs_queue.delivery_dlq[0].arn,
      target.retry_policy[0].maximum_retry_attempts == 24 && target.retry_policy[0].maximum_event_age_in_seconds == 3600,
      target.input == null && length(target.input_transformer) == 0,
    ])]) && length(aws_cloudwatch_event_target.this) == 4
    error_message = "Every rule sends the whole event to the event queue in the one message group ecs-events, keeping its retry policy and dead-letter queue."
  }

  assert {
    condition = alltrue([
      aws_lambda_event_source_mapping.events[0].event_source_arn == "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo",
      aws_lambda_event_source_mapping.events[0].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:rollout-watcher-ecs-event-handler",
      aws_lambda_event_source_mapping.events[0].batch_size == 10,
      aws_lambda_event_source_mapping.events[0].function_response_types == toset(["ReportBatchItemFailures"]),
      aws_lambda_event_source_mapping.events[0].enabled,
    ])
    error_message = "The handler reads the event queue in batches of 10 and reports batch item failures."
  }

  assert {
    condition     = length(aws_lambda_permission.events) == 0
    error_message = "In queue mode EventBridge must not be allowed to invoke the handler: only the mapping does."
  }

  assert {
    condition = alltrue([
      toset(keys(data.aws_iam_policy_document.queued_events)) == toset(["ecs-event-handler"]),
      one(data.aws_iam_policy_document.queued_events["ecs-event-handler"].statement).actions == toset(["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]),
      one(data.aws_iam_policy_document.queued_events["ecs-event-handler"].statement).resources == toset(["arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo"]),
      # The messages are encrypted with the module key, which the handler may decrypt.
      one([for s in data.aws_iam_policy_document.runtime["ecs-event-handler"].statement : s if s.sid == "UseModuleKey"]).resources == toset([aws_sqs_queue.events[0].kms_master_key_id]),
      contains(one([for s in data.aws_iam_policy_document.runtime["ecs-event-handler"].statement : s if s.sid == "UseModuleKey"]).actions, "kms:Decrypt"),
    ])
    error_message = "Only the handler may receive and delete on the event queue, and only there; it decrypts with the module key."
  }

  assert {
    condition = alltrue([
      one([for s in data.aws_iam_policy_document.event_queue[0].statement : s if s.sid == "EventBridgeRulesSendEvents"]).actions == toset(["sqs:SendMessage"]),
      one(one([for s in data.aws_iam_policy_document.event_queue[0].statement : s if s.sid == "EventBridgeRulesSendEvents"]).principals).identifiers == toset(["events.amazonaws.com"]),
      one(one([for s in data.aws_iam_policy_document.event_queue[0].statement : s if s.sid == "EventBridgeRulesSendEvents"]).condition).variable == "aws:SourceArn",
      toset(one(one([for s in data.aws_iam_policy_document.event_queue[0].statement : s if s.sid == "EventBridgeRulesSendEvents"]).condition).values) == toset([for rule in aws_cloudwatch_event_rule.this : rule.arn]),
    ])
    error_message = "The event queue's policy lets EventBridge send only from this module's rules."
  }

  assert {
    condition = alltrue([
      one(one([for s in data.aws_iam_policy_document.kms[0].statement : s if contains(one(s.principals).identifiers, "events.amazonaws.com")]).principals).type == "Service",
      one([for s in data.aws_iam_policy_document.kms[0].statement : s if contains(one(s.principals).identifiers, "events.amazonaws.com")]).actions == toset(["kms:Decrypt", "kms:GenerateDataKey"]),
    ])
    error_message = "The key policy must let EventBridge generate data keys and decrypt, which it needs to send to a queue encrypted with the key."
  }

  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.dead_letter_queue["events"].dimensions == tomap({ QueueName = "rollout-watcher-events-dlq.fifo" }),
      aws_cloudwatch_metric_alarm.dead_letter_queue["events"].alarm_name == "rollout-watcher-events-dlq-not-empty",
      aws_cloudwatch_metric_alarm.event_queue_age[0].metric_name == "ApproximateAgeOfOldestMessage",
      aws_cloudwatch_metric_alarm.event_queue_age[0].dimensions == tomap({ QueueName = "rollout-watcher-events.fifo" }),
      aws_cloudwatch_metric_alarm.event_queue_age[0].threshold == 600,
    ])
    error_message = "Queue mode alarms on a non-empty event dead-letter queue and on events waiting more than 10 minutes."
  }

  assert {
    condition = alltrue([
      output.event_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events.fifo",
      output.event_queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/rollout-watcher-events.fifo",
      output.event_queue_dead_letter_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:rollout-watcher-events-dlq.fifo",
      output.event_queue_dead_letter_queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/rollout-watcher-events-dlq.fifo",
    ])
    error_message = "The event queue and its dead-letter queue are outputs."
  }
}

run "defaults_watch_everything_with_namespace_alarms" {
  command = apply

  assert {
    condition     = toset(keys(aws_lambda_function.this)) == toset(["ecs-event-handler", "rollout-sweeper"])
    error_message = "Without slack_notifier only the handler and the sweeper are deployed."
  }

  assert {
    condition = aws_lambda_function.this["ecs-event-handler"].environment[0].variables == tomap({
      STATE_TABLE       = "rollout-watcher-state"
      ALERT_TOPIC_ARN   = "arn:aws:sns:eu-west-1:123456789012:rollout-watcher-alerts"
      METRICS_SINK      = "emf"
      METRICS_NAMESPACE = "RolloutWatcher"
      STALL_AFTER       = "15m"
      ZERO_GRACE        = "30s"
      NOTIFY_INFO       = "true"
      EVENT_DELIVERY    = "queue"
    })
    error_message = "The handler's environment is not the contract's defaults."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this["rollout-sweeper"].environment[0].variables), "WATCH_CLUSTERS")
    error_message = "Without cluster_arns the sweeper gets no WATCH_CLUSTERS."
  }

  assert {
    condition = alltrue([
      aws_lambda_function.this["ecs-event-handler"].runtime == "provided.al2023",
      aws_lambda_function.this["ecs-event-handler"].handler == "bootstrap",
      aws_lambda_function.this["ecs-event-handler"].architectures == tolist(["arm64"]),
      aws_lambda_function.this["ecs-event-handler"].logging_config[0].log_format == "JSON",
      # Unreserved by default: a reservation fails on a small account's quota.
      alltrue([for fn in aws_lambda_function.this : coalesce(fn.reserved_concurrent_executions, -1) == -1]),
    ])
    error_message = "The functions are not packaged and sized as agreed."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["task-state-change"].event_pattern) == jsondecode(file("${path.module}/event-patterns/task-state-change.json"))
    error_message = "Without cluster_arns the rules use the pattern files unchanged."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_event_rule.this)) == toset(["deployment-state-change", "hook-state-change", "service-action", "task-state-change"]) && toset(keys(aws_cloudwatch_event_target.this)) == toset(keys(aws_cloudwatch_event_rule.this))
    error_message = "One rule per pattern file, lifecycle hook state changes included, each with its target."
  }

  assert {
    condition     = toset(jsondecode(output.forwarding_event_pattern)["detail-type"]) == toset(flatten([for rule in aws_cloudwatch_event_rule.this : jsondecode(rule.event_pattern)["detail-type"]]))
    error_message = "Other accounts must forward exactly the detail-types the rules match."
  }

  assert {
    condition = alltrue([for fn in ["ecs-event-handler", "rollout-sweeper"] : alltrue([
      one([for s in data.aws_iam_policy_document.rollout_state[fn].statement : s.resources if s.sid == "ListDeploymentsOfWatchedServices"]) == toset(["arn:aws:ecs:eu-west-1:123456789012:service/*/*"]),
      one([for s in data.aws_iam_policy_document.rollout_state[fn].statement : s.resources if s.sid == "DescribeDeploymentsOfWatchedServices"]) == toset(["arn:aws:ecs:eu-west-1:123456789012:service/*/*", "arn:aws:ecs:eu-west-1:123456789012:service-deployment/*/*/*"]),
    ])])
    error_message = "Without cluster_arns the Service Deployments API is allowed on this account's and region's services and service deployments only."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.namespace)) == toset(["deployment-failed", "deployment-rolled-back", "zero-task-downtime", "deployment-stalled", "lifecycle-hook-failed"]) && length(aws_cloudwatch_metric_alarm.running_tasks) == 0 && length(aws_cloudwatch_metric_alarm.lifecycle_hook_failed) == 0
    error_message = "Without services the rollout alarms are namespace-wide."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].hash_key == "pk" && aws_dynamodb_table.this[0].range_key == "sk" && aws_dynamodb_table.this[0].ttl[0].attribute_name == "expires_at"
    error_message = "The table keys are not the contract."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].deletion_protection_enabled == false
    error_message = "Deletion protection is off by default, so that terraform destroy works."
  }

  assert {
    condition = alltrue([
      toset([for role in aws_iam_role.this : role.name]) == toset(["rollout-watcher-eu-west-1-handler", "rollout-watcher-eu-west-1-sweeper"]),
      aws_iam_role.scheduler[0].name == "rollout-watcher-eu-west-1-scheduler",
      aws_cloudwatch_dashboard.this[0].dashboard_name == "rollout-watcher-eu-west-1",
    ])
    error_message = "Names of account-wide resources (IAM roles, the dashboard) must carry the region."
  }

  assert {
    condition     = length(aws_kms_key.this) == 1 && length(aws_sns_topic.this) == 1 && length(data.aws_s3_object.package_hash) == 0
    error_message = "By default the module creates its key and topic and reads the zips from lambda_package.local_dir."
  }
}

# The default delivery, a decision taken from measurements (BENCHMARKS.md, "Hot
# service"): change this run together with the default in variables.tf.
run "the_default_delivery_is_the_queue" {
  command = plan

  assert {
    condition     = length(aws_sqs_queue.events) == 1 && length(aws_lambda_event_source_mapping.events) == 1 && length(aws_lambda_permission.events) == 0
    error_message = "Without event_delivery the module delivers through the event queue."
  }
}

run "packages_from_s3_take_the_published_hash" {
  command = apply

  variables {
    lambda_package = { s3_bucket = "artifacts", s3_key_prefix = "rollout-watcher/1.0.0/" }
    architecture   = "x86_64"
  }

  assert {
    condition = alltrue([
      aws_lambda_function.this["ecs-event-handler"].s3_bucket == "artifacts",
      aws_lambda_function.this["ecs-event-handler"].s3_key == "rollout-watcher/1.0.0/x86_64/ecs-event-handler/bootstrap.zip",
      aws_lambda_function.this["ecs-event-handler"].filename == null,
      aws_lambda_function.this["ecs-event-handler"].source_code_hash == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
      data.aws_s3_object.package_hash["rollout-sweeper"].key == "rollout-watcher/1.0.0/x86_64/rollout-sweeper/bootstrap.zip.base64sha256",
    ])
    error_message = "Zips from S3 come from <prefix><architecture>/<function>/bootstrap.zip with the hash make publish stored."
  }
}

run "bring_your_own_key_topic_and_iam_conventions" {
  command = apply

  variables {
    create_kms_key            = false
    kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    create_sns_topic          = false
    sns_topic_arn             = "arn:aws:sns:eu-west-1:123456789012:platform-alerts"
    role_path                 = "/rollout-watcher/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
    subscriptions = {
      pager = { protocol = "lambda", endpoint = "arn:aws:lambda:eu-west-1:123456789012:function:pager:live", severities = ["critical"] }
    }
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && length(aws_sns_topic.this) == 0 && length(aws_sns_topic_policy.this) == 0
    error_message = "A key and a topic passed in are used, not created, and the topic's policy is left alone."
  }

  assert {
    condition = alltrue([
      aws_lambda_function.this["ecs-event-handler"].environment[0].variables["ALERT_TOPIC_ARN"] == "arn:aws:sns:eu-west-1:123456789012:platform-alerts",
      aws_lambda_function.this["ecs-event-handler"].kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
      aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
      aws_sns_topic_subscription.this["pager"].topic_arn == "arn:aws:sns:eu-west-1:123456789012:platform-alerts",
    ])
    error_message = "The functions, the table and the subscriptions must use the key and topic passed in."
  }

  assert {
    condition = alltrue([
      aws_lambda_permission.subscriptions["pager"].function_name == "arn:aws:lambda:eu-west-1:123456789012:function:pager",
      aws_lambda_permission.subscriptions["pager"].qualifier == "live",
      aws_lambda_permission.subscriptions["pager"].principal == "sns.amazonaws.com",
      aws_lambda_permission.subscriptions["pager"].source_arn == "arn:aws:sns:eu-west-1:123456789012:platform-alerts",
    ])
    error_message = "A lambda subscription gets the permission that lets the topic invoke that function (and alias)."
  }

  assert {
    condition = alltrue(concat(
      [for role in aws_iam_role.this : role.path == "/rollout-watcher/" && role.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"],
      [aws_iam_role.scheduler[0].path == "/rollout-watcher/", aws_iam_role.scheduler[0].permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"],
    ))
    error_message = "Every role gets role_path and role_permissions_boundary."
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create         = false
    slack_notifier = { webhook_secret_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/slack/webhook" }
    chatbot_slack  = { slack_team_id = "T0123456789", slack_channel_id = "C0123456789" }
  }

  assert {
    condition = alltrue([
      length(aws_lambda_function.this) == 0, length(aws_dynamodb_table.this) == 0, length(aws_sns_topic.this) == 0,
      length(aws_kms_key.this) == 0, length(aws_iam_role.this) == 0, length(aws_iam_role.scheduler) == 0,
      length(aws_sqs_queue.delivery_dlq) == 0, length(aws_sqs_queue.function_dlq) == 0, length(aws_scheduler_schedule.this) == 0,
      length(aws_cloudwatch_event_rule.this) == 0, length(aws_cloudwatch_dashboard.this) == 0, length(aws_cloudwatch_metric_alarm.watcher) == 0,
      length(aws_chatbot_slack_channel_configuration.this) == 0, length(aws_sns_topic_subscription.slack_notifier) == 0,
      length(aws_sqs_queue.events) == 0, length(aws_sqs_queue.events_dlq) == 0, length(aws_lambda_event_source_mapping.events) == 0,
    ])
    error_message = "With create = false the module creates nothing."
  }
}

run "rejects_a_missing_package_directory" {
  command = plan

  variables {
    lambda_package = { local_dir = "/nonexistent/target/lambda" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_both_package_sources" {
  command = plan

  variables {
    lambda_package = { local_dir = "/nonexistent/target/lambda", s3_bucket = "artifacts" }
  }

  expect_failures = [var.lambda_package]
}

run "rejects_create_kms_key_false_without_a_key" {
  command = plan

  variables {
    create_kms_key = false
  }

  expect_failures = [aws_sqs_queue.delivery_dlq]
}

run "rejects_unknown_log_level_tracing_mode_and_schedule" {
  command = plan

  variables {
    log_level      = "verbose"
    tracing_mode   = "active"
    sweep_schedule = "rate(1 minutes)"
  }

  expect_failures = [var.log_level, var.tracing_mode, var.sweep_schedule]
}

run "everything_on" {
  command = apply

  variables {
    name        = "rw"
    environment = "prod"
    cluster_arns = [
      "arn:aws:ecs:eu-west-1:123456789012:cluster/main",
      "arn:aws:ecs:eu-west-1:999999999999:cluster/forwarded",
    ]
    services            = [{ cluster_name = "main", service_name = "web" }, { cluster_name = "main", service_name = "batch", alarm_on_zero_running = false }]
    sweeper             = { max_services_per_tick = 50 }
    email_subscriptions = ["oncall@example.com"]
    subscriptions = {
      incidents = { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:123456789012:incidents", severities = ["critical"], statuses = ["firing"] }
    }
    slack_notifier = {
      webhook_secret_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/slack/webhook"
      severities         = ["warning", "critical"]
    }
    chatbot_slack            = { slack_team_id = "T0123456789", slack_channel_id = "C0123456789" }
    event_source_account_ids = ["999999999999"]
  }

  assert {
    condition     = aws_lambda_function.this["rollout-sweeper"].environment[0].variables["WATCH_CLUSTERS"] == "arn:aws:ecs:eu-west-1:123456789012:cluster/main"
    error_message = "WATCH_CLUSTERS must hold only this account's clusters."
  }

  assert {
    condition     = aws_lambda_function.this["rollout-sweeper"].environment[0].variables["SWEEP_MAX_SERVICES"] == "50" && aws_lambda_function.this["rollout-sweeper"].environment[0].variables["ENVIRONMENT"] == "prod"
    error_message = "The sweeper's optional settings are not passed."
  }

  assert {
    condition = aws_lambda_function.this["slack-notifier"].environment[0].variables == tomap({
      SLACK_WEBHOOK_SECRET_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/slack/webhook"
      SEVERITY_FILTER          = "warning,critical"
      METRICS_NAMESPACE        = "RolloutWatcher"
      ENVIRONMENT              = "prod"
    })
    error_message = "The notifier's environment is wrong."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_subscription.this["incidents"].filter_policy) == { "$or" = [{ severity = ["critical"], status = ["firing"] }, { alert = [{ exists = false }] }] }
    error_message = "Subscription filters must become a filter policy on severity and status that lets the alarms (no attributes) through (test_alert_filters.py)."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_subscription.this["email:oncall@example.com"].filter_policy) == { "$or" = [{ severity = ["warning", "critical"] }, { alert = [{ exists = false }] }] }
    error_message = "Email subscriptions get email_severities, and the alarms."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_subscription.slack_notifier[0].filter_policy) == { "$or" = [{ severity = ["warning", "critical"] }, { alert = [{ exists = false }] }] }
    error_message = "The notifier's subscription filters like the notifier, and lets the alarms through."
  }

  assert {
    condition = jsonencode(jsondecode(aws_cloudwatch_event_rule.this["deployment-state-change"].event_pattern)["$or"]) == jsonencode([
      {
        resources = [
          { prefix = "arn:aws:ecs:eu-west-1:123456789012:service/main/" },
          { prefix = "arn:aws:ecs:eu-west-1:999999999999:service/forwarded/" },
        ]
      },
      { detail = { clusterArn = var.cluster_arns } },
    ])
    error_message = "Deployment events must be filtered on the service ARN prefix or, for a short service ARN (no cluster in it), on detail.clusterArn."
  }

  assert {
    condition     = tolist(jsondecode(aws_cloudwatch_event_rule.this["task-state-change"].event_pattern).detail.clusterArn) == var.cluster_arns && jsondecode(aws_cloudwatch_event_rule.this["task-state-change"].event_pattern).detail.group == [{ prefix = "service:" }]
    error_message = "Task events must be filtered on detail.clusterArn and keep the service group filter."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this["hook-state-change"].event_pattern == jsonencode({ source = ["aws.ecs"], "detail-type" = ["ECS Hook State Change"], detail = { clusterArn = var.cluster_arns } })
    error_message = "Hook events must be filtered on detail.clusterArn (their resources are not always there)."
  }

  assert {
    condition = one([for s in data.aws_iam_policy_document.rollout_state["ecs-event-handler"].statement : s.resources if s.sid == "DescribeDeploymentsOfWatchedServices"]) == toset([
      "arn:aws:ecs:eu-west-1:123456789012:service/main/*",
      "arn:aws:ecs:eu-west-1:999999999999:service/forwarded/*",
      "arn:aws:ecs:eu-west-1:123456789012:service-deployment/main/*/*",
      "arn:aws:ecs:eu-west-1:999999999999:service-deployment/forwarded/*/*",
    ])
    error_message = "With cluster_arns the Service Deployments API is allowed on the watched clusters' services and service deployments only."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.running_tasks)) == toset(["main/web"]) && length(aws_cloudwatch_metric_alarm.deployment_failed) == 2 && length(aws_cloudwatch_metric_alarm.lifecycle_hook_failed) == 2 && length(aws_cloudwatch_metric_alarm.namespace) == 0
    error_message = "Listed services get their own alarms; alarm_on_zero_running = false skips the running-task alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.running_tasks["main/web"].treat_missing_data == "breaching" && aws_cloudwatch_metric_alarm.running_tasks["main/web"].threshold == 1
    error_message = "RunningTaskCount < 1 must treat missing data as breaching."
  }

  assert {
    condition     = length(aws_chatbot_slack_channel_configuration.this) == 1 && length(aws_cloudwatch_event_permission.accounts) == 1
    error_message = "Chatbot and cross-account permissions must be created when configured."
  }
}

run "rejects_a_webhook_url" {
  command = plan

  variables {
    slack_notifier = { webhook_secret_arn = "https://hooks.slack.com/services/T000/B000/XXXX" }
  }

  expect_failures = [var.slack_notifier]
}

run "rejects_a_cluster_name_instead_of_an_arn" {
  command = plan

  variables {
    cluster_arns = ["main"]
  }

  expect_failures = [var.cluster_arns]
}

run "rejects_plain_http_and_unknown_alerts" {
  command = plan

  variables {
    subscriptions = {
      hook = { protocol = "http", endpoint = "http://example.com/hook", alerts = ["deployment_exploded"] }
    }
  }

  expect_failures = [var.subscriptions]
}

run "rejects_an_aws_namespace" {
  command = plan

  variables {
    metric_namespace = "AWS/ECS"
  }

  expect_failures = [var.metric_namespace]
}

run "queue_knobs_follow_the_inputs" {
  command = apply

  variables {
    functions      = { ecs_event_handler = { timeout = 20 } }
    event_delivery = { mode = "queue", max_receive_count = 3, queue_age_alarm_minutes = 30 }
  }

  assert {
    condition = alltrue([
      aws_sqs_queue.events[0].visibility_timeout_seconds == 120,
      jsondecode(aws_sqs_queue.events[0].redrive_policy).maxReceiveCount == 3,
      aws_cloudwatch_metric_alarm.event_queue_age[0].threshold == 1800,
    ])
    error_message = "The visibility timeout follows the handler's timeout, the receive count and the age alarm their inputs."
  }
}

# Direct delivery: the rules invoke the handler, as before the queue existed.
run "direct_delivery_invokes_the_handler_per_event" {
  command = apply

  variables {
    event_delivery = { mode = "direct" }
  }

  assert {
    condition = alltrue([
      length(aws_sqs_queue.events) == 0, length(aws_sqs_queue.events_dlq) == 0, length(aws_sqs_queue_policy.events) == 0,
      length(aws_sqs_queue_policy.events_dlq) == 0, length(aws_lambda_event_source_mapping.events) == 0,
      length(data.aws_iam_policy_document.queued_events) == 0, length(aws_cloudwatch_metric_alarm.event_queue_age) == 0,
      !contains(keys(aws_cloudwatch_metric_alarm.dead_letter_queue), "events"),
      output.event_queue_arn == null, output.event_queue_dead_letter_queue_url == null,
    ])
    error_message = "Direct mode creates no event queue, mapping, queue permission or queue alarm."
  }

  assert {
    condition = alltrue([for key, target in aws_cloudwatch_event_target.this : alltrue([
      target.arn == "arn:aws:lambda:eu-west-1:123456789012:function:rollout-watcher-ecs-event-handler",
      length(target.sqs_target) == 0,
      target.target_id == "ecs-event-handler",
      target.dead_letter_config[0].arn == aws_sqs_queue.delivery_dlq[0].arn,
    ])])
    error_message = "In direct mode every rule targets the handler itself."
  }

  assert {
    condition     = aws_lambda_function.this["ecs-event-handler"].environment[0].variables["EVENT_DELIVERY"] == "direct"
    error_message = "The handler learns it is invoked per event, and remembers only a few services."
  }

  assert {
    condition = toset(keys(aws_lambda_permission.events)) == toset(keys(aws_cloudwatch_event_rule.this)) && alltrue([for key, permission in aws_lambda_permission.events : alltrue([
      permission.principal == "events.amazonaws.com",
      permission.action == "lambda:InvokeFunction",
      permission.function_name == aws_lambda_function.this["ecs-event-handler"].function_name,
      permission.source_arn == aws_cloudwatch_event_rule.this[key].arn,
    ])])
    error_message = "In direct mode each rule, and only it, may invoke the handler."
  }
}

run "rejects_an_unknown_delivery_mode" {
  command = plan

  variables {
    event_delivery = { mode = "sqs" }
  }

  expect_failures = [var.event_delivery]
}

run "rejects_a_receive_count_sqs_refuses" {
  command = plan

  variables {
    event_delivery = { max_receive_count = 0 }
  }

  expect_failures = [var.event_delivery]
}

run "rejects_a_fractional_queue_age_alarm" {
  command = plan

  variables {
    event_delivery = { queue_age_alarm_minutes = 2.5 }
  }

  expect_failures = [var.event_delivery]
}
