//! Ports: the traits behind which every AWS call sits.
