terraform {
  # 1.5: `optional()` object attributes with defaults, `check` blocks and
  # `import` blocks are all GA.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.61 adds aws_chatbot_slack_channel_configuration. Terraform resolves every
      # resource type in the module even when its count is 0, so the floor has to
      # cover the optional Amazon Q Developer in chat apps integration too.
      version = ">= 5.61"
    }
  }
}
