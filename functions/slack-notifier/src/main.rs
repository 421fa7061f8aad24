//! slack-notifier Lambda function.

fn main() {}
