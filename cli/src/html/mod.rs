//! `--format html`: the rollout timeline as a picture, one self-contained page.
//!
//! # Layout
//! - `page.rs`: the page's plain input (services -> rollouts -> lanes, band, stages,
//!   alerts, zero windows). `replay` fills it here; `history` can fill it from the
//!   watcher's table.
//! - `tasks.rs`: per-task times collected from the task events as they stream by, and
//!   the replay hook ([`apply_json`]) that collects them.
//! - `build.rs`: a replay's effects, summaries and task times -> [`Page`].
//! - `lanes.rs`: which tasks get a lane, the serving count, the zero-serving windows.
//! - `svg.rs`: one rollout's chart; `text.rs`: its words; `write.rs`: the document;
//!   `escape.rs`: escaping of every text that came from an event; `style.css`.

mod build;
mod escape;
mod lanes;
mod page;
mod svg;
mod tasks;
mod text;
mod write;

pub use build::page as replay_page;
pub use escape::esc;
pub use lanes::MAX_LANES;
pub use page::{AlertMark, Lane, Page, Role, RolloutView, ServiceView, StageMark, Window};
pub use tasks::{TaskLog, apply_json};
pub use write::{MAX_CHARTS, document};
