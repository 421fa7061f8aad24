# A platform team's root module: its own KMS key and alert topic, created in the
# same apply as the watcher, and a Lambda function of its own subscribed to the
# alerts. The key's and the topic's ARNs are unknown until apply; the module's
# counts depend only on create_kms_key / create_sns_topic, so this plans.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.61" }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "zip_dir" {
  description = "Directory holding <function>/bootstrap.zip."
  type        = string
}

data "aws_caller_identity" "current" {}

# The statements the module README asks of a key passed in: the account
# administers it; CloudWatch Logs, alarms, EventBridge and SNS may use it.
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:This is a key policy: its Resource "*" is the key itself, administered by the account root.
  #checkov:skip=CKV_AWS_111:This is a key policy: its Resource "*" is the key itself, administered by the account root.
  #checkov:skip=CKV_AWS_356:This is a key policy, where AWS requires Resource "*" and it means only this key.
  statement {
    sid = "AccountAdministersKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:EnableKeyRotation",
      "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
      "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    ]
    resources = ["*"] # AWS requires "*" in a key policy: it means this key.
  }
  statement {
    sid = "ServicesUseKey"
    principals {
      type        = "Service"
      identifiers = ["logs.eu-west-1.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"]
    resources = ["*"] # AWS requires "*" in a key policy: it means this key.
  }
}

resource "aws_kms_key" "platform" {
  description             = "platform team key, created in the same apply as the watcher"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_sns_topic" "platform_alerts" {
  name              = "platform-alerts"
  kms_master_key_id = aws_kms_key.platform.arn
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "pager" {
  name               = "platform-pager"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

# A function of the team's own, receiving the watcher's critical alerts.
resource "aws_lambda_function" "pager" {
  #checkov:skip=CKV_AWS_50:A stand-in subscriber of this test scenario, applied to a local emulator only; it is never invoked.
  #checkov:skip=CKV_AWS_115:A stand-in subscriber of this test scenario, applied to a local emulator only; it is never invoked.
  #checkov:skip=CKV_AWS_116:A stand-in subscriber of this test scenario, applied to a local emulator only; it is never invoked.
  #checkov:skip=CKV_AWS_117:A stand-in subscriber of this test scenario, applied to a local emulator only; it is never invoked.
  #checkov:skip=CKV_AWS_272:A stand-in subscriber of this test scenario, applied to a local emulator only; it is never invoked.
  function_name    = "platform-pager"
  role             = aws_iam_role.pager.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = "${var.zip_dir}/slack-notifier/bootstrap.zip"
  source_code_hash = filebase64sha256("${var.zip_dir}/slack-notifier/bootstrap.zip")
}

module "rollout_watcher" {
  source = "../rollout-watcher"

  name           = "platform-watcher"
  lambda_package = { local_dir = var.zip_dir }

  create_kms_key   = false
  kms_key_arn      = aws_kms_key.platform.arn
  create_sns_topic = false
  sns_topic_arn    = aws_sns_topic.platform_alerts.arn

  subscriptions = {
    pager = { protocol = "lambda", endpoint = aws_lambda_function.pager.arn, severities = ["critical"] }
  }
}

output "function_names" {
  description = "The watcher's functions."
  value       = module.rollout_watcher.function_names
}

output "pager_function_name" {
  description = "The subscribed function."
  value       = aws_lambda_function.pager.function_name
}

output "topic_arn" {
  description = "The team's topic, which the watcher publishes to."
  value       = aws_sns_topic.platform_alerts.arn
}

output "key_arn" {
  description = "The team's key."
  value       = aws_kms_key.platform.arn
}
