//! One rollout's chart, as inline SVG: a time axis, the deployment's band (and stages),
//! alert markers, the serving-count lane, one lane per task, and every window with no
//! serving task in red across all of them.
//!
//! Colour is never the only carrier: phases differ by shape (pending is a dashed
//! outline, serving solid, draining hatched, stopped a thin line ending in a cross),
//! severities by marker shape (critical diamond, warning triangle, info circle,
//! resolved ring) and every mark has a `<title>` and a numbered or written label.
//! Colours are CSS variables, so the page's dark-mode rules recolour the chart.

use std::fmt::Write as _;

use rollout_watcher::core::{AlertStatus, RolloutState, Severity};
use rollout_watcher::model::Timestamp;

use super::escape::{esc, esc_clip};
use super::page::{AlertMark, Lane, RolloutView};
use super::text::{clock, length, phase_text};

/// Drawing width in SVG units (pixels at 100 %).
pub(super) const WIDTH: f64 = 960.0;
const X0: f64 = 168.0;
const X1: f64 = 944.0;
const AXIS_H: f64 = 26.0;
const ROW_H: f64 = 24.0;
const SERVING_H: f64 = 40.0;
const LANE_H: f64 = 20.0;
const BAR_H: f64 = 12.0;
/// Width of one character at the chart's 11 px font, roughly, for fitting labels.
const CHAR_W: f64 = 6.4;

struct Scale {
    t0: i64,
    t1: i64,
}

impl Scale {
    fn x(&self, t: Timestamp) -> f64 {
        let f = (t.as_millis() - self.t0) as f64 / (self.t1 - self.t0).max(1) as f64;
        X0 + f.clamp(0.0, 1.0) * (X1 - X0)
    }
}

/// Writes the chart of `r`; `id` is unique on the page (for `aria-labelledby`), `desc`
/// its text alternative.
pub(super) fn chart(out: &mut String, r: &RolloutView, id: &str, title: &str, desc: &str) {
    let s = Scale {
        t0: r.span.0.as_millis(),
        t1: r.span.1.as_millis().max(r.span.0.as_millis() + 1),
    };
    let stage_rows = if r.stages.is_empty() { 0.0 } else { 1.0 };
    let band_y = AXIS_H + 4.0;
    let stage_y = band_y + ROW_H;
    let alert_y = stage_y + stage_rows * ROW_H;
    let serving_y = alert_y + ROW_H;
    let lanes_y = serving_y + SERVING_H + 6.0;
    let lanes_h = LANE_H * r.lanes.len() as f64;
    let height = lanes_y + lanes_h + 8.0;
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    axis(out, &s, height);
    row_label(out, band_y, "deployment");
    band(out, &s, r, band_y);
    if !r.stages.is_empty() {
        row_label(out, stage_y, "stage");
        stages(out, &s, r, stage_y);
    }
    row_label(out, alert_y, "alerts");
    serving(out, &s, r, serving_y);
    zero(out, &s, r, alert_y, lanes_y + lanes_h, serving_y);
    alerts(out, &s, &r.alerts, alert_y);
    for (i, lane) in r.lanes.iter().enumerate() {
        task_lane(out, &s, r, lane, lanes_y + LANE_H * i as f64);
    }
    out.push_str("</svg>");
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

fn row_label(out: &mut String, y: f64, text: &str) {
    let _ = write!(
        out,
        r#"<text class="row" x="{}" y="{}">{}</text>"#,
        f(X0 - 8.0),
        f(y + ROW_H / 2.0 + 4.0),
        esc(text)
    );
}

/// Ticks every 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h or a
/// day, whichever gives at most nine, labelled with the UTC clock.
fn axis(out: &mut String, s: &Scale, height: f64) {
    const STEPS: [i64; 18] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ];
    let span = s.t1 - s.t0;
    let step = STEPS
        .iter()
        .map(|x| x * 1000)
        .find(|st| span / st <= 8)
        .unwrap_or(86_400_000);
    let mut t = (s.t0 / step + 1) * step;
    out.push_str(r#"<g class="axis">"#);
    let _ = write!(
        out,
        r#"<line x1="{X0}" y1="{AXIS_H}" x2="{X1}" y2="{AXIS_H}"/>"#
    );
    while t < s.t1 {
        let x = s.x(Timestamp::from_millis(t));
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x}" y1="{AXIS_H}" x2="{x}" y2="{}"/><text x="{x}" y="16">{}</text>"#,
            f(height - 6.0),
            clock(Timestamp::from_millis(t)),
            x = f(x)
        );
        t += step;
    }
    let _ = write!(
        out,
        r#"<text class="utc" x="{}" y="16">UTC</text>"#,
        f(X0 - 8.0)
    );
    out.push_str("</g>");
}

/// The CSS class of a rollout state (unknown future states share one).
pub(super) fn state_class(state: RolloutState) -> &'static str {
    match state {
        RolloutState::Started => "st-started",
        RolloutState::TasksRunning => "st-running",
        RolloutState::Draining => "st-draining",
        RolloutState::Stalled => "st-stalled",
        RolloutState::Completed => "st-completed",
        RolloutState::Failed => "st-failed",
        RolloutState::RolledBack => "st-rolledback",
        RolloutState::Superseded => "st-superseded",
        #[allow(unreachable_patterns)]
        _ => "st-other",
    }
}

fn band(out: &mut String, s: &Scale, r: &RolloutView, y: f64) {
    let end = r.span.1;
    for (i, (state, at)) in r.band.iter().enumerate() {
        let next = r.band.get(i + 1).map(|b| b.1);
        let mut x = s.x(*at);
        let (x2, label_w) = if state.is_terminal() && next.is_none() {
            // A terminal state is a moment: a pill wide enough for its name, drawn
            // from that moment on (or ending at the frame when the room is short).
            let w = state.as_str().len() as f64 * CHAR_W + 14.0;
            x = x.min(X1 - w);
            (x + w, w)
        } else {
            let x2 = s.x(next.unwrap_or(end));
            (x2, x2 - x)
        };
        let until = next.map_or_else(|| "the end of the chart".to_owned(), clock);
        let _ = write!(
            out,
            r#"<g class="{}"><title>{} from {} until {until}</title><rect x="{}" y="{}" width="{}" height="{}" rx="3"/>"#,
            state_class(*state),
            state.as_str(),
            clock(*at),
            f(x),
            f(y + 3.0),
            f((x2 - x).max(1.5)),
            f(ROW_H - 6.0)
        );
        let name = state.as_str().replace('_', " ");
        if label_w >= name.len() as f64 * CHAR_W + 8.0 {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}">{}</text>"#,
                f(x + 5.0),
                f(y + ROW_H / 2.0 + 4.0),
                esc(&name)
            );
        }
        out.push_str("</g>");
    }
}

fn stages(out: &mut String, s: &Scale, r: &RolloutView, y: f64) {
    for (i, st) in r.stages.iter().enumerate() {
        let next = r.stages.get(i + 1).map_or(r.span.1, |n| n.at);
        let (x, x2) = (s.x(st.at), s.x(next));
        let _ = write!(
            out,
            r#"<g class="stage s{}"><title>stage {} from {}</title><rect x="{}" y="{}" width="{}" height="{}" rx="3"/>"#,
            i % 2,
            esc(&st.name),
            clock(st.at),
            f(x),
            f(y + 3.0),
            f((x2 - x).max(1.5)),
            f(ROW_H - 6.0)
        );
        let fits = ((x2 - x - 8.0) / CHAR_W).floor().max(0.0) as usize;
        if fits >= 4 {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}">{}</text>"#,
                f(x + 4.0),
                f(y + ROW_H / 2.0 + 4.0),
                esc_clip(&st.name, fits)
            );
        }
        out.push_str("</g>");
    }
}

/// The marker shape and class of an alert.
pub(super) fn severity_word(a: &AlertMark) -> &'static str {
    match (a.status, a.severity) {
        (AlertStatus::Resolved, _) => "resolved",
        (_, Severity::Critical) => "critical",
        (_, Severity::Warning) => "warning",
        (_, Severity::Info) => "info",
    }
}

/// Markers closer than this (pixels) with the same severity are drawn as one, with a
/// count: a rollback after 400 failed health checks is one cluster, not a smear.
const CLUSTER_PX: f64 = 36.0;

fn alerts(out: &mut String, s: &Scale, alerts: &[AlertMark], y: f64) {
    let cy = y + ROW_H / 2.0;
    let mut groups: Vec<(f64, &'static str, Vec<usize>)> = Vec::new();
    for (i, a) in alerts.iter().enumerate() {
        let (x, word) = (s.x(a.at), severity_word(a));
        match groups.iter_mut().rev().find(|g| g.1 == word) {
            Some(g) if x - g.0 < CLUSTER_PX => g.2.push(i),
            _ => groups.push((x, word, vec![i])),
        }
    }
    groups.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut next_free = f64::MIN;
    for (x, word, members) in groups {
        // Markers at one instant are set side by side, not on top of each other.
        let x = x.max(next_free).min(X1 + 8.0);
        let shape = match word {
            "critical" => format!(r#"<path d="M{} {}l6 6l-6 6l-6-6z"/>"#, f(x), f(cy - 6.0)),
            "warning" => format!(r#"<path d="M{} {}l6.5 11h-13z"/>"#, f(x), f(cy - 6.0)),
            "resolved" => format!(r#"<circle cx="{}" cy="{}" r="4.5"/>"#, f(x), f(cy)),
            _ => format!(r#"<circle cx="{}" cy="{}" r="5"/>"#, f(x), f(cy)),
        };
        let first = members[0];
        let a = &alerts[first];
        let (title, label) = if members.len() == 1 {
            (
                format!(
                    "{}. {} {} ({}) at {}: {}",
                    first + 1,
                    word.to_uppercase(),
                    esc(&a.name),
                    a.status.as_str(),
                    clock(a.at),
                    esc(&a.summary)
                ),
                (first + 1).to_string(),
            )
        } else {
            let last = &alerts[members[members.len() - 1]];
            let mut names: Vec<&str> = members.iter().map(|&i| alerts[i].name.as_str()).collect();
            names.dedup();
            (
                format!(
                    "{} {} alerts ({} to {}), {} from {} to {}",
                    members.len(),
                    word.to_uppercase(),
                    first + 1,
                    members[members.len() - 1] + 1,
                    esc(&names.join(", ")),
                    clock(a.at),
                    clock(last.at)
                ),
                format!("{}×{}", first + 1, members.len()),
            )
        };
        next_free = x + 16.0 + label.chars().count() as f64 * 6.0;
        let _ = write!(
            out,
            r#"<g class="alert sev-{word}"><title>{title}</title>{shape}<text x="{}" y="{}">{label}</text></g>"#,
            f(x + 8.0),
            f(cy + 4.0),
        );
    }
}

fn serving(out: &mut String, s: &Scale, r: &RolloutView, y: f64) {
    let max = r.serving.iter().map(|p| p.1).max().unwrap_or(0).max(1);
    let base = y + SERVING_H - 4.0;
    let scale = (SERVING_H - 14.0) / f64::from(max);
    let yv = |n: u32| base - f64::from(n) * scale;
    let mut d = format!("M{} {}", f(X0), f(base));
    for (i, (t, n)) in r.serving.iter().enumerate() {
        let x = if i == 0 { X0 } else { s.x(*t) };
        let _ = write!(d, "H{}V{}", f(x), f(yv(*n)));
    }
    let _ = write!(d, "H{}V{}Z", f(X1), f(base));
    let _ = write!(
        out,
        r#"<g class="serving"><title>tasks serving (all tasks, shown or not): at most {max}</title><path d="{d}"/></g>"#
    );
    let _ = write!(
        out,
        r#"<text class="row" x="{}" y="{}">serving</text><text class="row sub" x="{}" y="{}">max {max}</text>"#,
        f(X0 - 8.0),
        f(y + 16.0),
        f(X0 - 8.0),
        f(y + 30.0)
    );
    // Counts are written at each change when there are few, so "1, 2, 1, 0, 1" reads
    // without the axis.
    if r.serving.len() <= 16 {
        let mut last_x = f64::MIN;
        for (i, (t, n)) in r.serving.iter().enumerate() {
            let x = if i == 0 { X0 } else { s.x(*t) };
            if x - last_x < 14.0 {
                continue;
            }
            last_x = x;
            let _ = write!(
                out,
                r#"<text class="count" x="{}" y="{}">{n}</text>"#,
                f(x + 3.0),
                f(yv(*n) - 2.0)
            );
        }
    }
}

fn zero(out: &mut String, s: &Scale, r: &RolloutView, top: f64, bottom: f64, label_y: f64) {
    for w in &r.zero_windows {
        let (x, x2) = (s.x(w.from), s.x(w.to));
        let len = length(w.from, w.to);
        let open = if w.open { ", still open" } else { "" };
        let _ = write!(
            out,
            r#"<g class="zero"><title>no task serving from {} to {} ({len}{open})</title><rect x="{}" y="{}" width="{}" height="{}"/><line x1="{x}" y1="{}" x2="{x}" y2="{}"/><line x1="{x2}" y1="{}" x2="{x2}" y2="{}"/><text x="{}" y="{}">0 serving · {len}</text></g>"#,
            clock(w.from),
            clock(w.to),
            f(x),
            f(top),
            f((x2 - x).max(2.0)),
            f(bottom - top),
            f(top),
            f(bottom),
            f(top),
            f(bottom),
            f(x + 4.0),
            f(label_y + 12.0),
            x = f(x),
            x2 = f(x2),
        );
    }
}

fn task_lane(out: &mut String, s: &Scale, r: &RolloutView, lane: &Lane, y: f64) {
    let end = r.span.1;
    let by = y + (LANE_H - BAR_H) / 2.0;
    let short: String = lane.task_id.chars().take(8).collect();
    let role = lane.role.map_or("task", |r| r.as_str());
    let mark = if lane.failed { "✖ " } else { "" };
    let _ = write!(
        out,
        r#"<g class="lane{}"><text class="row" x="{}" y="{}"><title>{}</title>{mark}{role} · {}</text>"#,
        if lane.failed { " failed" } else { "" },
        f(X0 - 8.0),
        f(y + LANE_H / 2.0 + 4.0),
        esc(&phase_text(lane)),
        esc(&short)
    );
    let stop_or_end = lane.stopped_at.unwrap_or(end);
    let segments = [
        (
            "pending",
            lane.created_at,
            lane.started_at.or(lane.stopping_at).unwrap_or(stop_or_end),
        ),
        ("serving", lane.started_at, lane.stopping_at.unwrap_or(end)),
        (
            "draining",
            lane.stopping_at.filter(|_| lane.started_at.is_some()),
            stop_or_end,
        ),
    ];
    for (phase, from, to) in segments {
        let Some(from) = from else { continue };
        // Nothing to draw for a phase wholly before the axis (an old task's start).
        if to < from || to < r.span.0 {
            continue;
        }
        let (x, x2) = (s.x(from), s.x(to));
        let _ = write!(
            out,
            r#"<rect class="ph-{phase}" x="{}" y="{}" width="{}" height="{BAR_H}"><title>{} {phase} {} to {} ({})</title></rect>"#,
            f(x),
            f(by),
            f((x2 - x).max(1.0)),
            esc(&short),
            clock(from),
            clock(to),
            length(from, to)
        );
    }
    if let Some(stopped) = lane.stopped_at {
        let x = s.x(stopped);
        let cy = y + LANE_H / 2.0;
        let reason = lane.stop_reason.as_deref().unwrap_or("no reason given");
        let _ = write!(
            out,
            r#"<g class="stopped"><title>{} stopped at {}: {}</title><line class="tail" x1="{}" y1="{}" x2="{}" y2="{}"/><path class="cross" d="M{} {}l8 8m0-8l-8 8"/></g>"#,
            esc(&short),
            clock(stopped),
            esc(reason),
            f(x),
            f(cy),
            f(X1),
            f(cy),
            f(x - 4.0),
            f(cy - 4.0)
        );
        let room = ((X1 - x - 10.0) / CHAR_W).floor().max(0.0) as usize;
        if room >= 12 && lane.stop_reason.is_some() {
            let _ = write!(
                out,
                r#"<text class="reason" x="{}" y="{}">{}</text>"#,
                f(x + 8.0),
                f(cy - 3.0),
                esc_clip(reason, room)
            );
        }
    }
    out.push_str("</g>");
}
