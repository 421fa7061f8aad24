################################################################################
# State table: rollouts, per-service state and the alert/metric outbox
#
# Keys are the contract with shared/src (DynamoDB adapter):
#   pk (S) / sk (S)         item key
#   due_pk (S) / due_at (N) sparse GSI "due-index": only items with a deadline
#                           carry these, so the sweeper queries what is due
#                           instead of scanning
#   history_month (S) / history_at (N)  sparse GSI "history-index": finished
#                           rollouts by month of their end, for
#                           `rollout-watcher history` (no Scan of the table)
#   expires_at (N)          TTL: finished rollouts and sent outbox entries age out
################################################################################

resource "aws_dynamodb_table" "this" {
  count = var.create ? 1 : 0

  name                        = "${var.name}-state"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "due_pk"
    type = "S"
  }

  attribute {
    name = "due_at"
    type = "N"
  }

  global_secondary_index {
    name            = "due-index"
    hash_key        = "due_pk"
    range_key       = "due_at"
    projection_type = "KEYS_ONLY"
  }

  attribute {
    name = "history_month"
    type = "S"
  }

  attribute {
    name = "history_at"
    type = "N"
  }

  global_secondary_index {
    name               = "history-index"
    hash_key           = "history_month"
    range_key          = "history_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["summary"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }

  tags = local.tags
}
