variable "region" {
  description = "AWS region of the watched clusters."
  type        = string
  default     = "eu-west-1"
  nullable    = false
}

variable "environment" {
  description = "Environment label, used in names and shown in alerts."
  type        = string
  default     = "prod"
  nullable    = false
}

variable "cluster_arns" {
  description = "ECS clusters to watch."
  type        = list(string)
  nullable    = false
}

variable "services" {
  description = "Services that get their own alarms (cluster and service names)."
  type = list(object({
    cluster_name          = string
    service_name          = string
    alarm_on_zero_running = optional(bool, true)
  }))
  default  = []
  nullable = false
}

variable "alert_emails" {
  description = "Email addresses that receive critical alerts."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "oncall_https_endpoint" {
  description = "HTTPS endpoint of an on-call tool that receives critical alerts, or null."
  type        = string
  default     = null
}

variable "chatbot_slack" {
  description = "Slack workspace (team) and channel ids for Amazon Q Developer in chat applications, or null. The workspace must have been authorised in the console once."
  type = object({
    slack_team_id    = string
    slack_channel_id = string
  })
  default = null
}

variable "event_source_account_ids" {
  description = "Accounts whose default buses forward ECS events to this watcher."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "lambda_zip_dir" {
  description = "Directory holding <function>/bootstrap.zip, as `make package` writes it (relative to this directory, or absolute)."
  type        = string
  default     = "../../../target/lambda"
  nullable    = false
}

variable "role_permissions_boundary" {
  description = "Permissions boundary policy ARN for the watcher's roles, or null."
  type        = string
  default     = null
}

variable "table_deletion_protection" {
  description = "Deletion protection of the state table. True in production; false lets `terraform destroy` remove the table."
  type        = bool
  default     = false
  nullable    = false
}

variable "secret_recovery_window_in_days" {
  description = "Days Secrets Manager keeps the webhook secret after a destroy (0, or 7 to 30). 0 lets the example be applied again at once under the same name."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "The secret_recovery_window_in_days must be 0 or from 7 to 30, as Secrets Manager allows."
  }
}
