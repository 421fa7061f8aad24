# The same watcher, under the same name, in two regions of one account: IAM role
# names and the dashboard name are global to the account, so they carry the
# region.

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

module "watcher_eu_west_1" {
  source    = "../rollout-watcher"
  providers = { aws = aws.ireland }

  name           = "rollout-watcher-prod"
  lambda_package = { local_dir = var.zip_dir }
}

module "watcher_us_east_1" {
  source    = "../rollout-watcher"
  providers = { aws = aws.virginia }

  name           = "rollout-watcher-prod"
  lambda_package = { local_dir = var.zip_dir }
}

output "role_names" {
  description = "Execution role names of both regions."
  value       = concat(values(module.watcher_eu_west_1.function_role_names), values(module.watcher_us_east_1.function_role_names))
}

output "dashboard_names" {
  description = "Dashboard names of both regions."
  value       = [module.watcher_eu_west_1.dashboard_name, module.watcher_us_east_1.dashboard_name]
}
