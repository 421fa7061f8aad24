output "alert_topic_arn" {
  description = "SNS topic the alerts are published to."
  value       = module.rollout_watcher.alert_topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard with the rollout metrics."
  value       = module.rollout_watcher.dashboard_url
}
