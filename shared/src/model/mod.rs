//! The ECS event model: typed, lenient EventBridge events, the identities they carry,
//! the service configuration ECS reports, and their interpretation into the state
//! machine's inputs. The bottom of the library: it imports nothing above it.

mod config;
mod crash_loop;
mod decode;
mod error;
mod event;
mod fast;
mod hook;
mod ids;
mod input;
mod interpret;
mod rules;
mod service_deployment;
mod timestamp;

pub use config::{DeploymentStrategy, LifecycleHook, Observation, ServiceConfig, TrafficSteps};
pub use crash_loop::CrashLoopRule;
pub use error::ModelError;
pub use event::{
    Container, DEPLOYMENT_STATE_CHANGE, DeploymentDetail, Detail, EcsEvent, HOOK_STATE_CHANGE,
    HookDetail, SERVICE_ACTION, ServiceActionDetail, TASK_STATE_CHANGE, TaskDetail,
};
pub use hook::{HookChange, HookPhase, service_of_deployment};
pub use ids::{DeploymentId, ServiceArn, task_definition_name, task_id};
pub use input::{
    ContainerExit, DeploymentChange, DeploymentPhase, Ignored, Input, InputKind, Interpreted,
    ServiceAction, ServiceActionKind, TaskObservation, TaskStatus,
};
pub use rules::{Finding, RuleCheck, breaker_threshold, ceiling_tasks, floor_tasks};
pub use service_deployment::{BriefView, HookView, ServiceDeploymentView, deployment_of_revision};
pub use timestamp::{Millis, Timestamp};
