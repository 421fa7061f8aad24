//! ecs-event-handler Lambda function.

fn main() {}
