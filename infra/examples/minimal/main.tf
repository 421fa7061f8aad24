provider "aws" {
  region = var.region
}

# Watches every ECS cluster in the account and region, alerts by email on
# warnings and critical alerts, and alarms namespace-wide.
module "rollout_watcher" {
  source = "../.."

  email_subscriptions = var.alert_emails
}
