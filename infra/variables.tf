################################################################################
# Naming and packaging
################################################################################

variable "name" {
  description = "Prefix for every resource name (functions, roles, table, topic, queues, rules, alarms). Keep it short: derived names must fit AWS's 64-character limits."
  type        = string
  default     = "rollout-watcher"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,31}$", var.name))
    error_message = "The name must start with a letter, contain only letters, digits and hyphens, and be at most 32 characters long."
  }
}

variable "tags" {
  description = "Tags added to every resource that supports them."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "environment" {
  description = "Free-form environment label (for example `prod`) passed to the functions as ENVIRONMENT and shown in alerts. Empty means no label."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = length(var.environment) <= 64
    error_message = "The environment label must be at most 64 characters long."
  }
}

variable "lambda_zip_dir" {
  description = "Directory holding the zips built by `make package`, one `<function-name>/bootstrap.zip` per function. Null means `<module>/../target/lambda`, which is right when the module is used from a checkout of this repository."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set the zips were built for. `make package` builds arm64 (Graviton) by default; use x86_64 only with zips built for it."
  type        = string
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "The architecture must be arm64 or x86_64, matching the target the zips were built for."
  }
}

################################################################################
# Functions
################################################################################

variable "functions" {
  description = "Per-function sizing. `reserved_concurrent_executions` caps (and reserves) concurrency: -1 removes the reservation, 0 pauses the function. The sweeper defaults to 1 so two sweeps never overlap."
  type = object({
    ecs_event_handler = optional(object({
      memory_size                    = optional(number, 256)
      timeout                        = optional(number, 30)
      reserved_concurrent_executions = optional(number, 10)
    }), {})
    rollout_sweeper = optional(object({
      memory_size                    = optional(number, 256)
      timeout                        = optional(number, 50)
      reserved_concurrent_executions = optional(number, 1)
    }), {})
    slack_notifier = optional(object({
      memory_size                    = optional(number, 128)
      timeout                        = optional(number, 15)
      reserved_concurrent_executions = optional(number, 5)
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for f in [var.functions.ecs_event_handler, var.functions.rollout_sweeper, var.functions.slack_notifier] :
      f.reserved_concurrent_executions >= -1 && f.timeout >= 1 && f.timeout <= 900 && f.memory_size >= 128
    ])
    error_message = "Each function needs reserved_concurrent_executions >= -1, a timeout between 1 and 900 seconds and at least 128 MB of memory."
  }
}

variable "async_invoke" {
  description = "How Lambda retries a failed asynchronous invocation (EventBridge, Scheduler and SNS all invoke asynchronously) before sending it to the function's dead-letter queue."
  type = object({
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 3600)
  })
  default  = {}
  nullable = false
}

variable "log_retention_days" {
  description = "Retention of each function's CloudWatch log group, in days."
  type        = number
  default     = 30
  nullable    = false
}

variable "log_level" {
  description = "Application log level of the functions (Lambda advanced logging controls, JSON format). The Rust runtime reads it as AWS_LAMBDA_LOG_LEVEL."
  type        = string
  default     = "INFO"
  nullable    = false
}

variable "tracing_mode" {
  description = "AWS X-Ray tracing mode of the functions: `PassThrough` (trace only when the caller sampled) or `Active` (Lambda samples and the roles get X-Ray write access)."
  type        = string
  default     = "PassThrough"
  nullable    = false
}

variable "vpc_config" {
  description = "Run the functions in these subnets and security groups. Null (the default) keeps them outside any VPC: they only call AWS APIs. Inside a VPC they need a NAT gateway or interface endpoints for DynamoDB, SNS, ECS, CloudWatch, Secrets Manager/SSM and KMS."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration to enforce on the three functions. Null disables code signing."
  type        = string
  default     = null
}

################################################################################
# What to watch and how
################################################################################

variable "cluster_arns" {
  description = "ECS cluster ARNs to watch. Empty watches every cluster whose events reach the bus. When set, the EventBridge rules match only these clusters, the ECS read permissions are limited to them, and the sweeper reconciles every service in the ones that belong to this account (WATCH_CLUSTERS)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.cluster_arns : can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$", arn))])
    error_message = "Each cluster ARN must look like arn:aws:ecs:REGION:ACCOUNT:cluster/NAME."
  }
}

variable "services" {
  description = "Services that get their own alarms (deployment failed or rolled back, zero-task downtime, running tasks below 1, stalled rollout). Empty means namespace-wide alarms over all services instead. Set `alarm_on_zero_running = false` for services that legitimately scale to zero."
  type = list(object({
    cluster_name          = string
    service_name          = string
    alarm_on_zero_running = optional(bool, true)
  }))
  default  = []
  nullable = false

  validation {
    condition = alltrue([
      for s in var.services :
      can(regex("^[A-Za-z0-9_-]{1,255}$", s.cluster_name)) && can(regex("^[A-Za-z0-9_-]{1,255}$", s.service_name))
    ])
    error_message = "Each service needs a cluster_name and a service_name (names, not ARNs) made of letters, digits, hyphens and underscores."
  }

  validation {
    condition     = length(distinct([for s in var.services : "${s.cluster_name}/${s.service_name}"])) == length(var.services)
    error_message = "Each cluster_name/service_name pair may be listed only once."
  }
}

variable "stall_after_minutes" {
  description = "A rollout still in progress this many minutes after it started is reported as deployment_stalled (STALL_AFTER). Allow for the circuit breaker's back-off: a desired count of 1 can take about 12 minutes to roll back."
  type        = number
  default     = 15
  nullable    = false

  validation {
    condition     = var.stall_after_minutes > 0 && floor(var.stall_after_minutes) == var.stall_after_minutes
    error_message = "The stall deadline must be a whole number of minutes greater than zero."
  }
}

variable "zero_running_grace_seconds" {
  description = "How long a service may sit at zero running tasks before zero_running_tasks fires (ZERO_GRACE). Absorbs the instant between an old task stopping and the replacement being counted."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.zero_running_grace_seconds >= 0 && floor(var.zero_running_grace_seconds) == var.zero_running_grace_seconds
    error_message = "The zero-running grace period must be a whole number of seconds, zero or more."
  }
}

variable "notify_info" {
  description = "Publish info alerts (deployment_started, deployment_completed) to the topic as well as warnings and critical alerts (NOTIFY_INFO). Subscriptions can still filter by severity."
  type        = bool
  default     = true
  nullable    = false
}

variable "metrics_sink" {
  description = "How the functions emit metrics: `emf` (embedded metric format in the logs: no API calls, no extra permission) or `cloudwatch` (PutMetricData, allowed for the namespace only)."
  type        = string
  default     = "emf"
  nullable    = false

  validation {
    condition     = contains(["emf", "cloudwatch"], var.metrics_sink)
    error_message = "The metrics sink must be emf or cloudwatch."
  }
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the watcher's metrics (METRICS_NAMESPACE); alarms and the dashboard read from it."
  type        = string
  default     = "RolloutWatcher"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metric_namespace)) && !startswith(var.metric_namespace, "AWS/")
    error_message = "The metric namespace must be 1-255 letters, digits or . _ / # : - characters and must not start with AWS/."
  }
}

variable "sweep_schedule" {
  description = "EventBridge Scheduler expression for the rollout-sweeper, which fires stalled-rollout deadlines and reconciles zero-running services."
  type        = string
  default     = "rate(1 minute)"
  nullable    = false

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.sweep_schedule))
    error_message = "The sweep schedule must be a rate(...) or cron(...) expression."
  }
}

variable "sweeper" {
  description = "Sweeper behaviour: `reconcile_watched_clusters` passes this account's `cluster_arns` as WATCH_CLUSTERS so every service in them is checked, not only services seen in events; `max_services_per_tick` bounds the work of one sweep (SWEEP_MAX_SERVICES, null for the function's default)."
  type = object({
    reconcile_watched_clusters = optional(bool, true)
    max_services_per_tick      = optional(number)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.sweeper.max_services_per_tick == null ? true : (var.sweeper.max_services_per_tick >= 1 && floor(var.sweeper.max_services_per_tick) == var.sweeper.max_services_per_tick)
    error_message = "The sweeper's max_services_per_tick must be a whole number of at least 1, or null."
  }
}

################################################################################
# Events
################################################################################

variable "event_bus_name" {
  description = "Event bus the rules listen on. ECS sends its events to the account's `default` bus; use another bus only when a central bus receives forwarded events."
  type        = string
  default     = "default"
  nullable    = false
}

variable "event_delivery" {
  description = "Retry policy of the EventBridge targets and the sweeper schedule. Events still undelivered after this go to the delivery dead-letter queue."
  type = object({
    maximum_event_age_in_seconds = optional(number, 3600)
    maximum_retry_attempts       = optional(number, 24)
  })
  default  = {}
  nullable = false
}

variable "event_source_account_ids" {
  description = "Other AWS accounts allowed to forward their ECS events to this account's bus, so one watcher serves many accounts. Each of them needs the forwarding rule described in the README (output `forwarding_event_pattern`)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.event_source_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each source account id must be 12 digits."
  }
}

variable "event_source_organization_id" {
  description = "AWS Organizations id (o-...) whose member accounts may all forward ECS events to this bus. Null allows only `event_source_account_ids`."
  type        = string
  default     = null

  validation {
    condition     = var.event_source_organization_id == null ? true : can(regex("^o-[a-z0-9]{10,32}$", var.event_source_organization_id))
    error_message = "The organization id must look like o-abcd123456."
  }
}

################################################################################
# Storage and encryption
################################################################################

variable "kms_key_arn" {
  description = "Customer managed KMS key used for the table, topic, queues, logs and function environment. Null creates a dedicated key with rotation. A key you pass in must already allow the CloudWatch Logs, CloudWatch alarms, EventBridge and SNS service principals described in the README."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The KMS key ARN must look like arn:aws:kms:REGION:ACCOUNT:key/ID (an alias ARN is not accepted)."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before the module-created KMS key is deleted after a destroy."
  type        = number
  default     = 30
  nullable    = false
}

variable "table_deletion_protection" {
  description = "Turn on deletion protection for the state table. The table holds in-flight rollouts and the alert outbox; turn it off before destroying the module."
  type        = bool
  default     = true
  nullable    = false
}

################################################################################
# Alerting
################################################################################

variable "email_subscriptions" {
  description = "Email addresses subscribed to the alert topic. Each address must confirm the subscription from the email AWS sends. They receive the severities in `email_severities`."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.email_subscriptions : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "Each email subscription must be an email address."
  }
}

variable "email_severities" {
  description = "Alert severities delivered to `email_subscriptions` (a filter policy on the `severity` message attribute)."
  type        = list(string)
  default     = ["warning", "critical"]
  nullable    = false

  validation {
    condition     = length(var.email_severities) > 0 && alltrue([for s in var.email_severities : contains(["info", "warning", "critical"], s)])
    error_message = "The email_severities list must list one or more of info, warning and critical."
  }
}

variable "subscriptions" {
  description = "More subscriptions to the alert topic, keyed by a stable name. `protocol` is sqs, https, lambda, email or email-json; the optional `severities`, `alerts` and `statuses` (firing, resolved) become a filter policy on the message attributes, empty meaning all. Failed deliveries go to the delivery dead-letter queue."
  type = map(object({
    protocol             = string
    endpoint             = string
    severities           = optional(list(string), [])
    alerts               = optional(list(string), [])
    statuses             = optional(list(string), [])
    raw_message_delivery = optional(bool, false)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["sqs", "https", "lambda", "email", "email-json"], s.protocol)])
    error_message = "Each subscription protocol must be sqs, https, lambda, email or email-json (plain http is not supported: alerts must travel over TLS)."
  }

  validation {
    condition     = alltrue(flatten([for s in values(var.subscriptions) : [for v in s.severities : contains(["info", "warning", "critical"], v)]]))
    error_message = "Subscription severities must be info, warning or critical."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.subscriptions) : [for a in s.alerts : contains([
      "deployment_started", "deployment_completed", "deployment_failed", "deployment_rolled_back",
      "health_check_failed", "task_failed_to_start", "task_start_impaired", "task_placement_failed",
      "zero_running_tasks", "deployment_stalled", "unsafe_deployment_config",
    ], a)]]))
    error_message = "Subscription alerts must be alert names the watcher publishes (see the README's alert table)."
  }

  validation {
    condition     = alltrue(flatten([for s in values(var.subscriptions) : [for v in s.statuses : contains(["firing", "resolved"], v)]]))
    error_message = "Subscription statuses must be firing or resolved."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !s.raw_message_delivery || contains(["sqs", "https"], s.protocol)])
    error_message = "Raw message delivery is only possible for sqs and https subscriptions."
  }
}

variable "slack_notifier" {
  description = "Deploy the slack-notifier function, subscribed to the topic, posting alerts to a Slack incoming webhook. `webhook_secret_arn` is the full ARN of a Secrets Manager secret or an SSM SecureString parameter holding the webhook URL (never the URL itself); `secret_kms_key_arn` is the customer managed key encrypting it, if any; `severities` and `alerts` filter what is posted (empty means all). Null deploys no notifier."
  type = object({
    webhook_secret_arn = string
    secret_kms_key_arn = optional(string)
    severities         = optional(list(string), [])
    alerts             = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.slack_notifier == null ? true : can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+)$", var.slack_notifier.webhook_secret_arn))
    error_message = "The slack_notifier webhook_secret_arn must be the ARN of a Secrets Manager secret or an SSM parameter, not the webhook URL."
  }

  validation {
    condition     = var.slack_notifier == null ? true : alltrue([for s in var.slack_notifier.severities : contains(["info", "warning", "critical"], s)])
    error_message = "The slack_notifier severities must be info, warning or critical."
  }

  validation {
    condition = var.slack_notifier == null ? true : alltrue([for a in var.slack_notifier.alerts : contains([
      "deployment_started", "deployment_completed", "deployment_failed", "deployment_rolled_back",
      "health_check_failed", "task_failed_to_start", "task_start_impaired", "task_placement_failed",
      "zero_running_tasks", "deployment_stalled", "unsafe_deployment_config",
    ], a)])
    error_message = "The slack_notifier alerts must be alert names the watcher publishes (see the README's alert table)."
  }
}

variable "chatbot_slack" {
  description = "Wire the alert topic to a Slack channel through Amazon Q Developer in chat applications (formerly AWS Chatbot). The Slack workspace must first be authorised once in the console; `slack_team_id` is its workspace id. `configuration_name` defaults to `<name>-<region>` (names are unique per account, across regions). Null creates nothing."
  type = object({
    slack_team_id               = string
    slack_channel_id            = string
    configuration_name          = optional(string)
    logging_level               = optional(string, "ERROR")
    guardrail_policy_arns       = optional(list(string))
    user_authorization_required = optional(bool, true)
  })
  default = null
}

################################################################################
# Alarms and dashboard
################################################################################

variable "alarms" {
  description = "CloudWatch alarms, all sending to the alert topic (plus `additional_actions`, for example a paging topic). `ok_actions` also notifies when an alarm recovers. `zero_task_downtime_threshold_seconds` is the downtime tolerated before the downtime alarm fires; `running_task_evaluation_minutes` is how long a watched service may report fewer than one running task (or no data at all) before alarming."
  type = object({
    enabled                              = optional(bool, true)
    ok_actions                           = optional(bool, true)
    additional_actions                   = optional(list(string), [])
    zero_task_downtime_threshold_seconds = optional(number, 0)
    running_task_evaluation_minutes      = optional(number, 3)
    function_error_threshold             = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.alarms.zero_task_downtime_threshold_seconds >= 0 && var.alarms.running_task_evaluation_minutes >= 1 && var.alarms.function_error_threshold >= 1
    error_message = "The downtime threshold must be zero or more seconds, running_task_evaluation_minutes at least 1 and function_error_threshold at least 1."
  }
}

variable "dashboard_enabled" {
  description = "Create the CloudWatch dashboard with the rollout metrics and the watcher's health."
  type        = bool
  default     = true
  nullable    = false
}
