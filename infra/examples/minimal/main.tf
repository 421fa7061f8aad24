provider "aws" {
  region = var.region
}

# Watches every ECS cluster in the account and region, alerts by email on
# warnings and critical alerts, and alarms namespace-wide.
module "rollout_watcher" {
  source = "../.."

  # The zips `make package` built at the repository root.
  lambda_package = { local_dir = var.lambda_zip_dir }

  email_subscriptions = var.alert_emails
}
