variable "region" {
  description = "AWS region of the ECS clusters to watch."
  type        = string
  default     = "eu-west-1"
  nullable    = false
}

variable "alert_emails" {
  description = "Email addresses that receive warning and critical rollout alerts (each must confirm its subscription)."
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
