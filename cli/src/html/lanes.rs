//! Which tasks get a lane, how many serve at each instant, and where none does.
//!
//! A one-task rollout has two or three lanes; a 500-task service has a thousand
//! candidates, which no one reads. Past [`MAX_LANES`] the chart keeps the tasks that
//! explain what happened, in this order: failed tasks (the ones that broke the
//! rollout), the neighbours of each zero-serving window (the last task to stop serving
//! before it and the first to serve after it), the first and last new task to start
//! serving and the first and last old task to drain (the rollout's edges), then the
//! earliest others. An aggregate lane above them counts the serving tasks of every
//! task, shown or not, so the shape of the whole rollout is never lost.

use std::collections::{BTreeSet, HashMap};

use rollout_watcher::model::Timestamp;

use super::page::{Lane, Role, Window};
use super::tasks::{ServiceTasks, TaskTimes};

/// Lanes drawn per rollout, at most.
pub const MAX_LANES: usize = 24;
/// Failed tasks given a lane first, at most.
const MAX_FAILED: usize = 10;

/// A task that lived in the span, with its role in the rollout drawn.
struct Candidate<'a> {
    deployment: Option<&'a str>,
    id: &'a str,
    times: &'a TaskTimes,
    role: Role,
}

impl Candidate<'_> {
    fn born(&self) -> Timestamp {
        let t = self.times;
        t.created_at.or(t.started_at).unwrap_or(t.first_seen)
    }
}

/// Who the rollout drawn is, to give other deployments' tasks their role.
pub(super) struct Rollout<'a> {
    /// Its deployment.
    pub deployment: &'a str,
    /// When it started.
    pub start: Timestamp,
    /// The deployment that rolled it back, if one did.
    pub rolled_back_by: Option<&'a str>,
    /// Start of every other rollout of the service, by deployment.
    pub others: &'a HashMap<String, Timestamp>,
}

/// The lanes of one rollout (at most [`MAX_LANES`]) and how many tasks in the span
/// were left without one.
pub(super) fn choose(
    tasks: &ServiceTasks,
    rollout: &Rollout<'_>,
    span: (Timestamp, Timestamp),
    windows: &[Window],
) -> (Vec<Lane>, usize) {
    let mut all: Vec<Candidate<'_>> = tasks
        .all()
        .filter(|(_, _, t)| overlaps(t, span))
        .map(|(deployment, id, times)| Candidate {
            deployment,
            id,
            times,
            role: role(deployment, times, rollout),
        })
        .collect();
    all.sort_by(|a, b| (a.born(), a.id).cmp(&(b.born(), b.id)));
    let mut picked: BTreeSet<usize> = BTreeSet::new();
    if all.len() <= MAX_LANES {
        picked.extend(0..all.len());
    } else {
        let mut want = |i: Option<usize>| {
            if let Some(i) = i
                && picked.len() < MAX_LANES
            {
                picked.insert(i);
            }
        };
        let failed: Vec<usize> = (0..all.len()).filter(|&i| all[i].times.failed).collect();
        for &i in failed.iter().take(MAX_FAILED) {
            want(Some(i));
        }
        for w in windows {
            want(position_max_by(&all, |c| {
                c.times.serve_end.filter(|e| *e <= w.from)
            }));
            want(position_min_by(&all, |c| {
                c.times.started_at.filter(|s| *s >= w.to)
            }));
        }
        let new = |c: &Candidate<'_>| c.role == Role::New;
        let old = |c: &Candidate<'_>| c.role == Role::Old;
        want(position_min_by(&all, |c| {
            c.times.started_at.filter(|_| new(c))
        }));
        want(position_max_by(&all, |c| {
            c.times.started_at.filter(|_| new(c))
        }));
        want(position_min_by(&all, |c| {
            c.times.serve_end.filter(|_| old(c))
        }));
        want(position_max_by(&all, |c| {
            c.times.stopped_at.filter(|_| old(c))
        }));
        for i in 0..all.len() {
            want(Some(i));
        }
    }
    let hidden = all.len() - picked.len();
    let mut lanes: Vec<(u8, Timestamp, Lane)> = picked
        .into_iter()
        .map(|i| {
            let c = &all[i];
            (order(c.role), c.born(), lane(c))
        })
        .collect();
    lanes.sort_by(|a, b| (a.0, a.1, &a.2.task_id).cmp(&(b.0, b.1, &b.2.task_id)));
    (lanes.into_iter().map(|(_, _, l)| l).collect(), hidden)
}

/// Old tasks on top, then the new ones, then whatever replaced them.
const fn order(role: Role) -> u8 {
    match role {
        Role::Old => 0,
        Role::New => 1,
        Role::Rollback => 2,
        Role::Later => 3,
    }
}

fn role(deployment: Option<&str>, t: &TaskTimes, r: &Rollout<'_>) -> Role {
    match deployment {
        Some(d) if d == r.deployment => Role::New,
        Some(d) if Some(d) == r.rolled_back_by => Role::Rollback,
        Some(d) => match r.others.get(d) {
            Some(start) if *start > r.start => Role::Later,
            Some(_) => Role::Old,
            None if t.created_at.unwrap_or(t.first_seen) > r.start => Role::Later,
            None => Role::Old,
        },
        None => Role::Old,
    }
}

fn lane(c: &Candidate<'_>) -> Lane {
    let t = c.times;
    Lane {
        task_id: c.id.to_owned(),
        deployment_id: c.deployment.map(str::to_owned),
        role: Some(c.role),
        task_definition: t.task_definition.clone(),
        created_at: t.created_at,
        started_at: t.started_at,
        stopping_at: t.serve_end,
        stopped_at: t.stopped_at,
        stop_code: t.stop_code.clone(),
        stop_reason: t.stop_reason.clone(),
        failed: t.failed,
    }
}

fn position_max_by<T: Ord>(
    all: &[Candidate<'_>],
    key: impl Fn(&Candidate<'_>) -> Option<T>,
) -> Option<usize> {
    (0..all.len())
        .filter_map(|i| key(&all[i]).map(|k| (k, i)))
        .max()
        .map(|(_, i)| i)
}

fn position_min_by<T: Ord>(
    all: &[Candidate<'_>],
    key: impl Fn(&Candidate<'_>) -> Option<T>,
) -> Option<usize> {
    (0..all.len())
        .filter_map(|i| key(&all[i]).map(|k| (k, std::cmp::Reverse(i))))
        .min()
        .map(|(_, std::cmp::Reverse(i))| i)
}

fn overlaps(t: &TaskTimes, (from, to): (Timestamp, Timestamp)) -> bool {
    let born = t.created_at.or(t.started_at).unwrap_or(t.first_seen);
    let gone = t.stopped_at.or(t.serve_end);
    born <= to && gone.is_none_or(|g| g >= from)
}

/// Serving intervals of every task of the service (`None`: still serving).
fn intervals(tasks: &ServiceTasks) -> Vec<(Timestamp, Option<Timestamp>)> {
    tasks
        .all()
        .filter_map(|(_, _, t)| t.started_at.map(|s| (s, t.serve_end.filter(|e| *e >= s))))
        .collect()
}

/// Serving tasks over `span` as a step function: the count at the span's start, then
/// a point at every change.
pub(super) fn serving(
    tasks: &ServiceTasks,
    (from, to): (Timestamp, Timestamp),
) -> Vec<(Timestamp, u32)> {
    let mut changes: Vec<(Timestamp, i64)> = Vec::new();
    let mut count: i64 = 0;
    for (s, e) in intervals(tasks) {
        if s <= from {
            if e.is_none_or(|e| e > from) {
                count += 1;
                if let Some(e) = e.filter(|e| *e <= to) {
                    changes.push((e, -1));
                }
            }
        } else if s <= to {
            changes.push((s, 1));
            if let Some(e) = e.filter(|e| *e <= to) {
                changes.push((e, -1));
            }
        }
    }
    // Ends before starts at one instant: a zero-length overlap is not serving.
    changes.sort();
    let mut out = vec![(from, clamp(count))];
    for (t, d) in changes {
        count += d;
        match out.last_mut() {
            Some(last) if last.0 == t => last.1 = clamp(count),
            _ => out.push((t, clamp(count))),
        }
    }
    out
}

fn clamp(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The windows with no serving task inside `[from, to]`, once the service has served
/// at all (before its first task ever ran, nothing was lost). `to` is the end of what
/// is known: a window still open there is marked open.
pub(super) fn zero_windows(
    tasks: &ServiceTasks,
    (from, to): (Timestamp, Timestamp),
) -> Vec<Window> {
    let intervals = intervals(tasks);
    let Some(first) = intervals.iter().map(|i| i.0).min() else {
        return Vec::new();
    };
    let steps = serving(tasks, (first.max(from), to));
    let mut out = Vec::new();
    let mut open: Option<Timestamp> = None;
    for (t, n) in steps {
        match (n, open) {
            (0, None) => open = Some(t),
            (0, Some(_)) => {}
            (_, Some(s)) => {
                if t > s {
                    out.push(Window {
                        from: s,
                        to: t,
                        open: false,
                    });
                }
                open = None;
            }
            (_, None) => {}
        }
    }
    if let Some(s) = open.filter(|s| *s < to) {
        out.push(Window {
            from: s,
            to,
            open: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tasks::DeploymentTasks;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_millis(1_000_000_000_000 + s * 1000)
    }

    fn task(created: i64, started: Option<i64>, end: Option<i64>, failed: bool) -> TaskTimes {
        TaskTimes {
            created_at: Some(at(created)),
            started_at: started.map(at),
            serve_end: end.map(at),
            stopped_at: end.map(|e| at(e + 5)),
            failed,
            first_seen: at(created),
            ..TaskTimes::default()
        }
    }

    fn service(deployments: Vec<(&str, Vec<TaskTimes>)>) -> ServiceTasks {
        let mut s = ServiceTasks::default();
        for (d, ts) in deployments {
            let mut dt = DeploymentTasks::default();
            for (i, t) in ts.into_iter().enumerate() {
                dt.tasks.insert(format!("{d}-task-{i:04}"), t);
            }
            s.deployments.insert(Some(d.to_owned()), dt);
        }
        s
    }

    /// min 0 %: the old task stops at 10 s, the new one serves from 40 s. One window,
    /// 30 s, and the step count says 1, 0, 1.
    #[test]
    fn a_gap_between_old_and_new_is_one_window() {
        let s = service(vec![
            ("ecs-svc/0", vec![task(-100, Some(-90), Some(10), false)]),
            ("ecs-svc/1", vec![task(12, Some(40), None, false)]),
        ]);
        let w = zero_windows(&s, (at(0), at(100)));
        assert_eq!(
            w,
            vec![Window {
                from: at(10),
                to: at(40),
                open: false
            }]
        );
        assert_eq!(
            serving(&s, (at(0), at(100))),
            vec![(at(0), 1), (at(10), 0), (at(40), 1)]
        );
    }

    /// A 500-task rollout (500 old, 500 new, 30 failed starts, one gap): the lanes are
    /// capped, every failure the cap allows is there, and the gap's two neighbours are.
    #[test]
    fn a_500_task_rollout_keeps_the_interesting_lanes() {
        let old: Vec<TaskTimes> = (0..500)
            .map(|i| task(-200, Some(-190), Some(50 + i), false))
            .collect();
        // The gap: the last old task stops serving at 549 s, the first new one serves at 560.
        let mut new: Vec<TaskTimes> = (0..500)
            .map(|i| task(i, Some(560 + i), None, false))
            .collect();
        new.extend((0..30).map(|i| task(i, None, Some(20 + i), true)));
        let s = service(vec![("ecs-svc/0", old), ("ecs-svc/1", new)]);
        let others = HashMap::from([("ecs-svc/0".to_owned(), at(-300))]);
        let r = Rollout {
            deployment: "ecs-svc/1",
            start: at(0),
            rolled_back_by: None,
            others: &others,
        };
        let span = (at(0), at(700));
        let windows = zero_windows(&s, span);
        assert_eq!(
            windows,
            vec![Window {
                from: at(549),
                to: at(560),
                open: false
            }]
        );
        let (lanes, hidden) = choose(&s, &r, span, &windows);
        assert_eq!(lanes.len(), MAX_LANES);
        assert_eq!(hidden, 1030 - MAX_LANES);
        assert_eq!(lanes.iter().filter(|l| l.failed).count(), MAX_FAILED);
        assert!(lanes.iter().all(|l| l.role.is_some()));
        assert!(
            lanes
                .iter()
                .take_while(|l| l.role == Some(Role::Old))
                .count()
                >= 2,
            "old tasks come first"
        );
        let stops: Vec<_> = lanes.iter().filter_map(|l| l.stopping_at).collect();
        assert!(
            stops.contains(&at(549)),
            "the last task serving before a gap has a lane"
        );
        let starts: Vec<_> = lanes.iter().filter_map(|l| l.started_at).collect();
        assert!(
            starts.contains(&at(560)),
            "and the first task serving after it"
        );
    }
}
