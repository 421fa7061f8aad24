output "alert_topic_arn" {
  description = "SNS topic the alerts are published to."
  value       = module.rollout_watcher.alert_topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard with the rollout metrics."
  value       = module.rollout_watcher.dashboard_url
}

output "slack_webhook_secret_name" {
  description = "Secret to fill with the Slack incoming webhook URL after apply."
  value       = aws_secretsmanager_secret.slack_webhook.name
}

output "incident_queue_url" {
  description = "Queue receiving failures, rollbacks, downtime and stalls."
  value       = aws_sqs_queue.incidents.url
}

output "event_bus_arn" {
  description = "Target bus for the forwarding rule in each source account."
  value       = module.rollout_watcher.event_bus_arn
}

output "forwarding_event_pattern" {
  description = "Event pattern of the forwarding rule in each source account."
  value       = module.rollout_watcher.forwarding_event_pattern
}

output "event_dead_letter_queue_url" {
  description = "The event queue's dead-letter queue: ECS events the handler failed on 5 times. Inspect, then redrive them to the event queue."
  value       = module.rollout_watcher.event_queue_dead_letter_queue_url
}
