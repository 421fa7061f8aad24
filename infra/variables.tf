################################################################################
# Naming and packaging
################################################################################

variable "create" {
  description = "Create the watcher's resources. False creates nothing, so a root module can switch the watcher off per environment without removing the module block."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Prefix for every resource name (functions, roles, table, topic, queues, rules, alarms). Names of account-wide resources (IAM roles, the dashboard, the Amazon Q channel) also carry the region, so the same name can be deployed in several regions of one account. At most 32 characters, so that every derived name fits AWS's 64-character limits."
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

variable "lambda_package" {
  description = "Where the function zips come from, exactly one of: `local_dir`, the directory `make package` wrote (`target/lambda` of a checkout, or `target/lambda-x86_64` for x86_64), holding `<function>/bootstrap.zip`; or `s3_bucket` with `s3_key_prefix`, where `make publish` uploaded `<prefix><architecture>/<function>/bootstrap.zip` and its hash, so that a machine without Rust can plan and apply. A relative `local_dir` is relative to the directory Terraform runs in."
  type = object({
    local_dir     = optional(string)
    s3_bucket     = optional(string)
    s3_key_prefix = optional(string, "")
  })
  nullable = false

  validation {
    condition     = (var.lambda_package.local_dir == null) != (var.lambda_package.s3_bucket == null)
    error_message = "Set exactly one of lambda_package.local_dir (the directory `make package` wrote, for example \"../../target/lambda\" from a directory two levels below a checkout) and lambda_package.s3_bucket (the bucket `make publish` uploaded to)."
  }

  validation {
    condition = var.lambda_package.local_dir == null ? true : alltrue([
      for function in ["ecs-event-handler", "rollout-sweeper"] : fileexists("${var.lambda_package.local_dir}/${function}/bootstrap.zip")
    ])
    error_message = "The lambda_package.local_dir directory lacks ecs-event-handler/bootstrap.zip or rollout-sweeper/bootstrap.zip: run `make package` at the repository root (or `make publish` and use s3_bucket), and give the directory relative to where Terraform runs or as an absolute path."
  }

  validation {
    condition     = var.lambda_package.s3_key_prefix == "" || can(regex("^[^/].*/$", var.lambda_package.s3_key_prefix))
    error_message = "The lambda_package.s3_key_prefix must be empty or end with a slash and not start with one, for example \"rollout-watcher/1.0.0/\" (the PREFIX given to `make publish`)."
  }
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
  description = "Per-function sizing. `reserved_concurrent_executions` is null by default (unreserved, sharing the account's pool): Lambda refuses a reservation that leaves fewer than 100 unreserved executions, so on a new or small account (a concurrency quota of 10, or 100) any reservation fails the apply. Overlapping sweeps are safe (every state write is conditional), so the sweeper needs no reservation either. Set a number to cap (and reserve) a function's concurrency, 0 to pause it (but not the ecs-event-handler in queue delivery: its event source mapping would keep receiving and send the events to the dead-letter queue; disable the mapping instead, see the README)."
  type = object({
    ecs_event_handler = optional(object({
      memory_size                    = optional(number, 256)
      timeout                        = optional(number, 30)
      reserved_concurrent_executions = optional(number)
    }), {})
    rollout_sweeper = optional(object({
      memory_size                    = optional(number, 256)
      timeout                        = optional(number, 50)
      reserved_concurrent_executions = optional(number)
    }), {})
    slack_notifier = optional(object({
      memory_size                    = optional(number, 128)
      timeout                        = optional(number, 15)
      reserved_concurrent_executions = optional(number)
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for f in [var.functions.ecs_event_handler, var.functions.rollout_sweeper, var.functions.slack_notifier] :
      (f.reserved_concurrent_executions == null ? true : f.reserved_concurrent_executions >= 0) && f.timeout >= 1 && f.timeout <= 900 && f.memory_size >= 128 && f.memory_size <= 10240
    ])
    error_message = "Each function needs reserved_concurrent_executions null (unreserved) or 0 and more, a timeout between 1 and 900 seconds and between 128 and 10240 MB of memory."
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
  description = "Application log level of the functions (Lambda advanced logging controls, JSON format): TRACE, DEBUG, INFO, WARN or ERROR. The Rust runtime reads it as AWS_LAMBDA_LOG_LEVEL; Lambda's FATAL is not offered because the runtime has no such level and would fall back to INFO."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "The log_level must be TRACE, DEBUG, INFO, WARN or ERROR (upper case, as Lambda's advanced logging controls spell them)."
  }
}

variable "tracing_mode" {
  description = "AWS X-Ray tracing mode of the functions: `PassThrough` (trace only when the caller sampled) or `Active` (Lambda samples and the roles get X-Ray write access)."
  type        = string
  default     = "PassThrough"
  nullable    = false

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "The tracing_mode must be PassThrough or Active, spelt as Lambda's TracingConfig spells them."
  }
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
  description = "EventBridge Scheduler expression for the rollout-sweeper, which fires stalled-rollout deadlines, reconciles zero-running services and retries the outbox: rate(...) or cron(...) with six fields, evaluated in UTC. Keep it at most a few minutes apart: stalled-rollout and zero-running alerts are only as punctual as the sweep."
  type        = string
  default     = "rate(1 minute)"
  nullable    = false

  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)|cron\\([^ ()]+( [^ ()]+){5}\\))$", var.sweep_schedule))
    error_message = "The sweep_schedule must be an EventBridge Scheduler rate expression such as rate(1 minute) or rate(5 minutes) (singular unit for 1, plural otherwise), or a cron expression with six fields such as cron(* * * * ? *); a one-time at(...) schedule would sweep only once."
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
  description = "How ECS events reach the ecs-event-handler. `mode = \"queue\"`: the rules send every event to one SQS FIFO queue, all in one message group, and a Lambda event source mapping hands the handler batches of up to 10 events in order, one batch at a time; the account's rollout state then has one writer (besides the sweeper), so no two invocations race on a busy service's item and no event is lost to lost conditional-write races. It costs the requests of one SQS FIFO queue and its FIFO dead-letter queue, idle or not: Lambda long-polls the queue all the time (2 to 5 pollers, 20-second polls) and every receive, empty or not, is a billed request, roughly 0.26 to 0.65 million a month, about $0.13 to $0.32 at the FIFO price of $0.50 per million (an estimate: tens of cents a month, before the SQS free tier); and a little latency: events wait for the mapping's polling, and behind a backlog for the batches before them. `mode = \"direct\"`: each rule invokes the handler asynchronously, one event per invocation, as before: no queue and no polling, but concurrent invocations race on the item of a service with many tasks, and events whose invocations keep losing end in the handler's dead-letter queue. `maximum_event_age_in_seconds` and `maximum_retry_attempts` are the retry policy of the rule targets and the sweeper schedule in both modes; events still undelivered after them go to the delivery dead-letter queue. Queue mode only: `max_receive_count` is how many times one message is handed to the handler before it moves to the event queue's dead-letter queue (each failed try holds every later event for the queue's visibility timeout, six times the handler's timeout); `queue_age_alarm_minutes` is how long the oldest event may wait in the queue before an alarm says the watcher is behind."
  type = object({
    mode                         = optional(string, "queue")
    maximum_event_age_in_seconds = optional(number, 3600)
    maximum_retry_attempts       = optional(number, 24)
    max_receive_count            = optional(number, 5)
    queue_age_alarm_minutes      = optional(number, 10)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["queue", "direct"], var.event_delivery.mode)
    error_message = "The event_delivery mode must be queue (EventBridge to an SQS FIFO queue, read in batches) or direct (EventBridge invokes the handler once per event)."
  }

  validation {
    condition     = var.event_delivery.max_receive_count >= 1 && var.event_delivery.max_receive_count <= 1000 && floor(var.event_delivery.max_receive_count) == var.event_delivery.max_receive_count
    error_message = "The event_delivery max_receive_count must be a whole number from 1 to 1000, the range of an SQS redrive policy's maxReceiveCount."
  }

  validation {
    condition     = var.event_delivery.queue_age_alarm_minutes >= 1 && var.event_delivery.queue_age_alarm_minutes <= 1440 && floor(var.event_delivery.queue_age_alarm_minutes) == var.event_delivery.queue_age_alarm_minutes
    error_message = "The event_delivery queue_age_alarm_minutes must be a whole number of minutes from 1 to 1440 (a day)."
  }
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

variable "create_kms_key" {
  description = "Create a dedicated customer managed key (rotated yearly) for the table, topic, queues, logs, schedule and function environments. Set false and pass `kms_key_arn` to use your own key: a boolean decides the count, so a key created in the same configuration (whose ARN is unknown until apply) works."
  type        = bool
  default     = true
  nullable    = false
}

variable "kms_key_arn" {
  description = "Your customer managed KMS key, used when `create_kms_key` is false (and rejected when it is true). It must already allow the CloudWatch Logs, CloudWatch alarms, EventBridge and SNS service principals described in the README; it may be created in the same configuration."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "The KMS key ARN must look like arn:aws:kms:REGION:ACCOUNT:key/ID (an alias ARN is not accepted)."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Days the module-created KMS key waits, disabled, before AWS deletes it after a destroy (7 to 30). Until then `aws kms cancel-key-deletion` brings it back, and with it anything still encrypted under it."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30 && floor(var.kms_key_deletion_window_days) == var.kms_key_deletion_window_days
    error_message = "The kms_key_deletion_window_days must be a whole number of days from 7 to 30, the window KMS allows."
  }
}

variable "table_deletion_protection" {
  description = "Turn on deletion protection for the state table. Off by default so that `terraform destroy` works: the table holds only in-flight rollouts, per-service state and the alert outbox, which age out within days (TTL) and are relearned from the next events and sweeps. Turn it on where a stray destroy must not drop rollouts in flight; to tear down, set it back to false and apply first."
  type        = bool
  default     = false
  nullable    = false
}

################################################################################
# IAM
################################################################################

variable "role_path" {
  description = "Path of every IAM role the module creates (the functions', the scheduler's, the Amazon Q channel's), for example `/rollout-watcher/`."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    condition     = can(regex("^/([\\x21-\\x7e]*/)?$", var.role_path)) && length(var.role_path) <= 512
    error_message = "The role_path must start and end with a slash, for example /rollout-watcher/, and be at most 512 characters."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of an IAM managed policy set as the permissions boundary of every role the module creates, where the account requires one. Null sets none."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null ? true : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "The role_permissions_boundary must be the ARN of an IAM managed policy, arn:aws:iam::ACCOUNT:policy/NAME."
  }
}

################################################################################
# Alerting
################################################################################

variable "create_sns_topic" {
  description = "Create the alert topic (KMS-encrypted, with a policy that lets only the watcher publish). Set false and pass `sns_topic_arn` to publish to a topic you manage; the module then leaves that topic's policy and key alone (see the README for what they must allow) and still adds the subscriptions below."
  type        = bool
  default     = true
  nullable    = false
}

variable "sns_topic_arn" {
  description = "Your SNS topic, used when `create_sns_topic` is false (and rejected when it is true). It may be created in the same configuration."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.sns_topic_arn))
    error_message = "The sns_topic_arn must be a standard SNS topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME (FIFO topics are not supported: alerts carry no message group)."
  }
}

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
  description = "More subscriptions to the alert topic, keyed by a stable name. `protocol` is sqs, https, lambda, email or email-json; the optional `severities`, `alerts` and `statuses` (firing, resolved) become a filter policy on the message attributes, empty meaning all. Failed deliveries (sqs, https, lambda) go to the delivery dead-letter queue. A `lambda` endpoint is a function ARN; the module adds the permission that lets the topic invoke it."
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
      "zero_running_tasks", "deployment_stalled", "unsafe_deployment_config", "deployment_paused",
      "lifecycle_hook_failed", "task_crashed", "crash_loop",
    ], a)]]))
    error_message = "Subscription alerts must be alert names the watcher publishes (see the README's alert table)."
  }

  validation {
    condition     = alltrue(flatten([for s in values(var.subscriptions) : [for v in s.statuses : contains(["firing", "resolved"], v)]]))
    error_message = "Subscription statuses must be firing or resolved."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.protocol != "lambda" || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$", s.endpoint))])
    error_message = "The endpoint of a lambda subscription must be a function ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME with an optional :ALIAS or :VERSION."
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
      "zero_running_tasks", "deployment_stalled", "unsafe_deployment_config", "deployment_paused",
      "lifecycle_hook_failed", "task_crashed", "crash_loop",
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

  validation {
    condition     = var.chatbot_slack == null ? true : contains(["ERROR", "INFO", "NONE"], var.chatbot_slack.logging_level)
    error_message = "The chatbot_slack logging_level must be ERROR, INFO or NONE."
  }
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
