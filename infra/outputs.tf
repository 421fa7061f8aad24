output "alert_topic_arn" {
  description = "ARN of the SNS topic every alert and alarm is published to (the module's, or `sns_topic_arn`). Subscribe more endpoints to it, filtering on the severity, alert, cluster, service and status message attributes."
  value       = try(var.create ? local.topic_arn : null, null)
}

output "alert_topic_name" {
  description = "Name of the alert topic."
  value       = try(var.create ? local.topic_name : null, null)
}

output "state_table_name" {
  description = "Name of the DynamoDB table holding rollout state and the alert outbox."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "state_table_arn" {
  description = "ARN of the state table."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "function_arns" {
  description = "ARNs of the deployed functions, by function name (ecs-event-handler, rollout-sweeper and, when enabled, slack-notifier)."
  value       = try({ for name, fn in aws_lambda_function.this : name => fn.arn }, {})
}

output "function_names" {
  description = "Lambda function names, by function name."
  value       = try({ for name, fn in aws_lambda_function.this : name => fn.function_name }, {})
}

output "function_role_names" {
  description = "Execution role names, by function name: <name>-<region>-handler, -sweeper, -notifier (IAM names are global, so they carry the region)."
  value       = try({ for name, role in aws_iam_role.this : name => role.name }, {})
}

output "function_role_arns" {
  description = "Execution role ARNs, by function name. Attach nothing broader to them: each holds only what its function calls."
  value       = try({ for name, role in aws_iam_role.this : name => role.arn }, {})
}

output "log_group_names" {
  description = "CloudWatch log group of each function, by function name."
  value       = try({ for name, group in aws_cloudwatch_log_group.this : name => group.name }, {})
}

output "event_rule_arns" {
  description = "ARNs of the EventBridge rules feeding ecs-event-handler, by pattern (deployment-state-change, hook-state-change, service-action, task-state-change)."
  value       = try({ for name, rule in aws_cloudwatch_event_rule.this : name => rule.arn }, {})
}

output "event_patterns" {
  description = "Event patterns applied to the rules (the files in event-patterns/ with the cluster filter merged in), by pattern."
  value       = try(local.event_patterns, {})
}

output "event_bus_arn" {
  description = "ARN of the event bus the rules listen on: the target of other accounts' forwarding rules."
  value       = try("arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${var.event_bus_name}", null)
}

output "forwarding_event_pattern" {
  description = "Event pattern (JSON) for the rule another account needs on its default bus to forward its ECS events to `event_bus_arn`."
  value       = try(local.forwarding_event_pattern, null)
}

output "sweeper_schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule that starts the sweeper."
  value       = try(aws_scheduler_schedule.this[0].arn, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the table, topic, queues, logs and function environments (the module's, or `kms_key_arn`)."
  value       = try(var.create ? local.kms_key_arn : null, null)
}

output "function_dead_letter_queue_urls" {
  description = "URLs of the functions' dead-letter queues (failed asynchronous invocations, with the error), by function name."
  value       = try({ for name, queue in aws_sqs_queue.function_dlq : name => queue.url }, {})
}

output "delivery_dead_letter_queue_url" {
  description = "URL of the dead-letter queue for events, sweeper ticks and alerts that could not be delivered."
  value       = try(aws_sqs_queue.delivery_dlq[0].url, null)
}

output "event_queue_arn" {
  description = "ARN of the SQS FIFO queue the EventBridge rules send ECS events to, which the ecs-event-handler reads in batches (event_delivery.mode = \"queue\"); null in direct mode."
  value       = try(aws_sqs_queue.events[0].arn, null)
}

output "event_queue_url" {
  description = "URL of the event queue; null in direct mode."
  value       = try(aws_sqs_queue.events[0].url, null)
}

output "event_queue_dead_letter_queue_arn" {
  description = "ARN of the event queue's FIFO dead-letter queue: events the handler failed on event_delivery.max_receive_count times; null in direct mode."
  value       = try(aws_sqs_queue.events_dlq[0].arn, null)
}

output "event_queue_dead_letter_queue_url" {
  description = "URL of the event queue's FIFO dead-letter queue (inspect, then redrive to the event queue); null in direct mode."
  value       = try(aws_sqs_queue.events_dlq[0].url, null)
}

output "alarm_arns" {
  description = "ARNs of all CloudWatch alarms the module created."
  value       = try(local.dashboard_alarm_arns, [])
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when it is disabled."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard, or null when it is disabled."
  value       = try("https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.this[0].dashboard_name}", null)
}

output "chatbot_configuration_arn" {
  description = "ARN of the Amazon Q Developer in chat applications Slack channel configuration, or null when not configured."
  value       = try(aws_chatbot_slack_channel_configuration.this[0].chat_configuration_arn, null)
}
