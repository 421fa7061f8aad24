# The same watcher, under the same name, in two regions of one account: IAM role
# names and the dashboard name are global to the account, so they carry the
# region. One region delivers events through the event queue, the other
# directly; the test then swaps the two modes in one apply.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.61" }
  }
}

provider "aws" {
  alias  = "ireland"
  region = "eu-west-1"
}

provider "aws" {
  alias  = "virginia"
  region = "us-east-1"
}

variable "zip_dir" {
  description = "Directory holding <function>/bootstrap.zip."
  type        = string
}

variable "eu_west_1_delivery" {
  description = "event_delivery.mode of the eu-west-1 watcher."
  type        = string
  default     = "queue"
}

variable "us_east_1_delivery" {
  description = "event_delivery.mode of the us-east-1 watcher."
  type        = string
  default     = "direct"
}

module "watcher_eu_west_1" {
  source    = "../rollout-watcher"
  providers = { aws = aws.ireland }

  name           = "rollout-watcher-prod"
  lambda_package = { local_dir = var.zip_dir }
  event_delivery = { mode = var.eu_west_1_delivery }
}

module "watcher_us_east_1" {
  source    = "../rollout-watcher"
  providers = { aws = aws.virginia }

  name           = "rollout-watcher-prod"
  lambda_package = { local_dir = var.zip_dir }
  event_delivery = { mode = var.us_east_1_delivery }
}

output "role_names" {
  description = "Execution role names of both regions."
  value       = concat(values(module.watcher_eu_west_1.function_role_names), values(module.watcher_us_east_1.function_role_names))
}

output "dashboard_names" {
  description = "Dashboard names of both regions."
  value       = [module.watcher_eu_west_1.dashboard_name, module.watcher_us_east_1.dashboard_name]
}
