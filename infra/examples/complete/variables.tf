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
