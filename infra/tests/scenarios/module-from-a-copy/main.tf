# What a CI runner without Rust applies: the module from a copy of infra/ alone
# (no repository around it, no target/ directory), its zips from the S3 bucket
# `make publish` uploaded to.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.61" }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "bucket" {
  description = "Bucket `make publish` uploaded the zips to."
  type        = string
}

variable "prefix" {
  description = "PREFIX given to `make publish`."
  type        = string
}

module "rollout_watcher" {
  source = "../rollout-watcher"

  lambda_package = { s3_bucket = var.bucket, s3_key_prefix = var.prefix }

  cluster_arns        = ["arn:aws:ecs:eu-west-1:123456789012:cluster/main"]
  services            = [{ cluster_name = "main", service_name = "web" }]
  email_subscriptions = ["oncall@example.com"]
}

output "function_names" {
  description = "The deployed functions."
  value       = module.rollout_watcher.function_names
}
