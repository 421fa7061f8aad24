//! The whole document: head and style, legend, the summary table, then one section per
//! service (worst first) with one article per rollout: the verdict as its heading, the
//! numbers, the chart and its text alternative (a caption, the task table, the alerts).
//!
//! Self-contained by construction: the style is inline, the charts are inline SVG, and
//! a Content-Security-Policy of `default-src 'none'` forbids anything else, so a page
//! that tried to load a script, font or image would be refused (and say so in the
//! browser's console, which the browser test reads).

use std::fmt::Write as _;

use rollout_watcher::core::{RolloutState, RolloutSummary};
use rollout_watcher::model::Millis;

use super::escape::{esc, slug};
use super::page::{AlertMark, Lane, Page, RolloutView, ServiceView, badness};
use super::svg::{self, severity_word};
use super::text::{clock, date_time, describe, length};

const STYLE: &str = include_str!("style.css");

/// Rollouts drawn as charts on one page, worst services first; the others keep their
/// article (verdict and numbers) without the chart. A busy account's 100,000 events
/// hold thousands of rollouts: charted in full, the page would be tens of megabytes
/// that no one scrolls through.
pub const MAX_CHARTS: usize = 250;

/// The page as one HTML document.
pub fn document(page: &Page) -> String {
    let mut order: Vec<&ServiceView> = page.services.iter().collect();
    order.sort_by(|a, b| {
        b.worst()
            .cmp(&a.worst())
            .then_with(|| a.heading.cmp(&b.heading))
    });
    let mut out = String::with_capacity(16_384 + page.services.len() * 8_192);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{}</title>
<style>
{STYLE}</style></head>
<body>
"#,
        esc(&page.title)
    );
    out.push_str(DEFS);
    let _ = write!(out, "<header><h1>{}</h1>", esc(&page.title));
    if let Some(s) = &page.subtitle {
        let _ = write!(out, r#"<p class="sub">{}</p>"#, esc(s));
    }
    out.push_str(LEGEND);
    out.push_str("</header>\n<main>\n");
    summary_table(&mut out, &order);
    let total: usize = order.iter().map(|s| s.rollouts.len()).sum();
    if total > MAX_CHARTS {
        let _ = writeln!(
            out,
            r#"<p class="note">Charts for the first {MAX_CHARTS} of {total} rollouts, worst services first; the other {} are listed with their verdict and numbers. Replay one service's events to see its charts.</p>"#,
            total - MAX_CHARTS
        );
    }
    let mut n = 0usize;
    for (i, svc) in order.iter().enumerate() {
        service(&mut out, svc, i, &mut n);
    }
    out.push_str(
        "</main>\n<footer><p>Made by <code>rollout-watcher</code>. Times are UTC. \
         One self-contained file: no script, no font or image from elsewhere.</p></footer>\n\
         </body></html>\n",
    );
    out
}

/// The hatch pattern the draining phase uses, defined once for every chart.
const DEFS: &str = r#"<svg class="defs" aria-hidden="true" focusable="false"><defs><pattern id="rw-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect class="hatch-bg" width="6" height="6"/><line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs></svg>
"#;

const LEGEND: &str = concat!(
    r#"<p class="legend" aria-label="Legend">"#,
    r#"<span><svg class="key" width="26" height="12" aria-hidden="true"><rect class="ph-pending" x="1" y="1" width="24" height="10"/></svg>pending</span>"#,
    r#"<span><svg class="key" width="26" height="12" aria-hidden="true"><rect class="ph-serving" x="1" y="1" width="24" height="10"/></svg>serving</span>"#,
    r#"<span><svg class="key" width="26" height="12" aria-hidden="true"><rect class="ph-draining" x="1" y="1" width="24" height="10"/></svg>draining</span>"#,
    r#"<span><svg class="key" width="26" height="12" aria-hidden="true"><g class="stopped"><line class="tail" x1="8" y1="6" x2="26" y2="6"/><path class="cross" d="M1 2l8 8m0-8l-8 8"/></g></svg>stopped</span>"#,
    r#"<span><svg class="key" width="26" height="12" aria-hidden="true"><g class="zero"><rect x="1" y="0" width="24" height="12"/><line x1="1" y1="0" x2="1" y2="12"/><line x1="25" y1="0" x2="25" y2="12"/></g></svg>no task serving</span>"#,
    r#"<span><svg class="key" width="14" height="12" aria-hidden="true"><g class="sev-critical"><path d="M7 0l6 6l-6 6l-6-6z"/></g></svg>critical</span>"#,
    r#"<span><svg class="key" width="14" height="12" aria-hidden="true"><g class="sev-warning"><path d="M7 0l6.5 11h-13z"/></g></svg>warning</span>"#,
    r#"<span><svg class="key" width="14" height="12" aria-hidden="true"><g class="sev-info"><circle cx="7" cy="6" r="5"/></g></svg>info</span>"#,
    r#"<span><svg class="key" width="14" height="12" aria-hidden="true"><g class="sev-resolved"><circle cx="7" cy="6" r="4.5"/></g></svg>resolved</span>"#,
    "</p>\n"
);

fn human(seconds: f64) -> String {
    Millis((seconds * 1000.0).round() as i64).human()
}

/// A number as `--format json` writes it, for `<data value>`.
fn json_number(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| "null".to_owned(), |n| n.to_string())
}

/// `good`, `warn` or `bad`, with the symbol that says it without colour.
fn tone(r: &RolloutSummary) -> (&'static str, &'static str) {
    match badness(r).0 {
        0 => ("good", "✔"),
        1 | 2 => ("warn", "⚠"),
        _ => ("bad", "✖"),
    }
}

fn summary_table(out: &mut String, order: &[&ServiceView]) {
    if order.is_empty() {
        // Words, not a table with no rows: a screen reader announces an empty table,
        // and a reader of the page wonders whether it failed to load.
        out.push_str(
            r#"<section class="summary" aria-labelledby="summary-h"><h2 id="summary-h">No rollout to show</h2><p class="note">The input holds no rollout the watcher follows.</p></section>
"#,
        );
        return;
    }
    let rollouts: usize = order.iter().map(|s| s.rollouts.len()).sum();
    let _ = write!(
        out,
        r#"<section class="summary" aria-labelledby="summary-h"><h2 id="summary-h">{} service(s), {rollouts} rollout(s), worst first</h2>
<table><thead><tr><th>Service</th><th>Cluster</th><th class="num">Rollouts</th><th>Worst</th><th class="num">Downtime</th><th class="num">Failed tasks</th></tr></thead><tbody>
"#,
        order.len()
    );
    for (i, s) in order.iter().enumerate() {
        let worst = s.rollouts.iter().max_by_key(|r| badness(&r.summary));
        let (class, mark, verdict) = worst.map_or(("warn", "•", "alerts only".to_owned()), |r| {
            let (c, m) = tone(&r.summary);
            (c, m, crate::render::verdict(&r.summary))
        });
        let down = s.downtime_s();
        let _ = writeln!(
            out,
            r##"<tr><td><a href="#{}">{}</a></td><td>{}</td><td class="num">{}</td><td class="verdict {class}">{mark} {}</td><td class="num{}">{}</td><td class="num">{}</td></tr>"##,
            anchor(s, i),
            esc(&s.name),
            esc(&s.cluster),
            s.rollouts.len(),
            esc(&verdict),
            if down > 0.0 { " downtime" } else { "" },
            human(down),
            s.failures()
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn anchor(s: &ServiceView, i: usize) -> String {
    let name: String = slug(&s.name).chars().take(40).collect();
    format!("svc-{i}-{name}")
}

fn service(out: &mut String, s: &ServiceView, i: usize, n: &mut usize) {
    let id = anchor(s, i);
    let _ = write!(
        out,
        r#"<section class="service" id="{id}" data-service="{}" aria-labelledby="{id}-h"><h2 id="{id}-h">{}</h2>"#,
        esc(&s.name),
        esc(&s.heading)
    );
    if let Some(note) = &s.note {
        let _ = write!(out, r#"<p class="note">{}</p>"#, esc(note));
    }
    out.push('\n');
    for r in &s.rollouts {
        *n += 1;
        if *n <= MAX_CHARTS {
            rollout(out, r, &format!("r{n}"));
        } else {
            brief(out, r, &format!("r{n}"));
        }
    }
    if !s.loose_alerts.is_empty() {
        out.push_str("<h3>Alerts outside any rollout</h3>");
        alert_list(out, &s.loose_alerts);
    }
    out.push_str("</section>\n");
}

fn rollout(out: &mut String, r: &RolloutView, id: &str) {
    let s = &r.summary;
    let (class, mark) = tone(s);
    let verdict = crate::render::verdict(s);
    let kind = if s.rollback_of.is_some() {
        "Rollback"
    } else {
        "Deployment"
    };
    let _ = write!(
        out,
        r#"<article class="rollout" id="{id}" data-deployment="{}" data-state="{}"><h3 class="verdict {class}">{mark} {}</h3>"#,
        esc(s.deployment_id.as_str()),
        s.state.as_str(),
        esc(&verdict)
    );
    facts(out, r, kind);
    let title = format!(
        "{kind} {} timeline, {} to {}",
        s.deployment_id,
        clock(r.span.0),
        clock(r.span.1)
    );
    let desc = describe(r);
    out.push_str("<figure>");
    svg::chart(out, r, id, &title, &desc);
    let _ = write!(out, "<figcaption>{}</figcaption></figure>", esc(&desc));
    lane_table(out, r);
    if !r.zero_windows.is_empty() {
        out.push_str(r#"<p class="downtime">No task serving: "#);
        let w: Vec<String> = r
            .zero_windows
            .iter()
            .map(|w| {
                format!(
                    "{} to {} ({}{})",
                    clock(w.from),
                    clock(w.to),
                    length(w.from, w.to),
                    if w.open { ", still open" } else { "" }
                )
            })
            .collect();
        let _ = write!(out, "{}.</p>", esc(&w.join("; ")));
    }
    if !r.alerts.is_empty() {
        alert_list(out, &r.alerts);
    }
    out.push_str("</article>\n");
}

/// A rollout past the chart budget: its verdict and numbers, in one line.
fn brief(out: &mut String, r: &RolloutView, id: &str) {
    let s = &r.summary;
    let (class, mark) = tone(s);
    let duration = s.duration_s.map_or_else(
        || r#"<data data-field="duration_s" value="null">not finished</data>"#.to_owned(),
        |d| {
            format!(
                r#"<data data-field="duration_s" value="{}">{}</data>"#,
                json_number(d),
                human(d)
            )
        },
    );
    let _ = write!(
        out,
        r#"<article class="rollout brief" id="{id}" data-deployment="{}" data-state="{}"><h3 class="verdict {class}">{mark} {}</h3><p><code>{}</code> {} · <data data-field="state" value="{st}">{st}</data> · started {} · took {duration} · down <data data-field="downtime_s" value="{}">{}</data> · failed <data data-field="health_check_failures" value="{hc}">{hc}</data> health checks, <data data-field="start_failures" value="{sf}">{sf}</data> starts</p></article>"#,
        esc(s.deployment_id.as_str()),
        s.state.as_str(),
        esc(&crate::render::verdict(s)),
        esc(s.deployment_id.as_str()),
        esc(s.task_definition.as_deref().unwrap_or("")),
        s.started_at.map_or_else(|| "–".to_owned(), date_time),
        json_number(s.downtime_s),
        human(s.downtime_s),
        st = s.state.as_str(),
        hc = s.health_check_failures,
        sf = s.start_failures,
    );
    out.push('\n');
}

fn facts(out: &mut String, r: &RolloutView, kind: &str) {
    let s = &r.summary;
    out.push_str(r#"<dl class="facts">"#);
    let mut fact = |name: &str, value: String| {
        let _ = write!(out, "<div><dt>{name}</dt><dd>{value}</dd></div>");
    };
    fact(
        kind,
        format!("<code>{}</code>", esc(s.deployment_id.as_str())),
    );
    if let Some(t) = &s.task_definition {
        fact("task definition", format!("<code>{}</code>", esc(t)));
    }
    if let Some(of) = &s.rollback_of {
        fact("rolls back", format!("<code>{}</code>", esc(of.as_str())));
    }
    fact(
        "state",
        format!(
            r#"<data data-field="state" value="{0}">{0}</data>"#,
            s.state.as_str()
        ),
    );
    if let Some(t) = s.started_at {
        fact("started", esc(&date_time(t)));
    }
    fact(
        "duration",
        match s.duration_s {
            Some(d) => format!(
                r#"<data data-field="duration_s" value="{}">{}</data>"#,
                json_number(d),
                human(d)
            ),
            None => r#"<data data-field="duration_s" value="null">not finished</data>"#.to_owned(),
        },
    );
    fact(
        "downtime",
        format!(
            r#"<data data-field="downtime_s" value="{}"{}>{}</data>"#,
            json_number(s.downtime_s),
            if s.downtime_s > 0.0 {
                r#" class="downtime""#
            } else {
                ""
            },
            human(s.downtime_s)
        ),
    );
    fact(
        "failed tasks",
        format!(
            r#"<data data-field="health_check_failures" value="{}">{}</data> health checks, <data data-field="start_failures" value="{}">{}</data> starts"#,
            s.health_check_failures, s.health_check_failures, s.start_failures, s.start_failures
        ),
    );
    if s.stalled && s.state != RolloutState::Stalled {
        fact("stalled", "yes, past its deadline".to_owned());
    }
    out.push_str("</dl>");
}

fn opt_clock(t: Option<rollout_watcher::model::Timestamp>) -> String {
    t.map_or_else(|| "–".to_owned(), clock)
}

fn lane_table(out: &mut String, r: &RolloutView) {
    if r.lanes.is_empty() {
        out.push_str(r#"<p class="note">No task events for this rollout.</p>"#);
        return;
    }
    let hidden = if r.hidden_lanes > 0 {
        format!(
            " ({} of {}: failures, the tasks around each gap and the rollout's first and last first; the serving lane counts all)",
            r.lanes.len(),
            r.lanes.len() + r.hidden_lanes
        )
    } else {
        String::new()
    };
    let _ = write!(
        out,
        r#"<table class="lanes"><caption>Tasks{hidden}</caption><thead><tr><th>Task</th><th>Role</th><th>Task definition</th><th>Pending</th><th>Serving</th><th>Draining</th><th>Stopped</th><th>Stop reason</th></tr></thead><tbody>"#
    );
    for l in &r.lanes {
        lane_row(out, l);
    }
    out.push_str("</tbody></table>");
}

fn lane_row(out: &mut String, l: &Lane) {
    let draining = l.stopping_at.filter(|_| l.started_at.is_some());
    let reason = match (&l.stop_reason, &l.stop_code) {
        (Some(r), Some(c)) => format!("{} <span class=\"sub\">({})</span>", esc(r), esc(c)),
        (Some(r), None) => esc(r),
        (None, Some(c)) => esc(c),
        (None, None) => String::new(),
    };
    let (class, mark) = if l.failed {
        (r#" class="failed-task""#, "✖ ")
    } else {
        ("", "")
    };
    let _ = write!(
        out,
        r#"<tr><td{class}><code>{mark}{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{reason}</td></tr>"#,
        esc(&l.task_id),
        l.role.map_or("", |r| r.as_str()),
        esc(l.task_definition.as_deref().unwrap_or("")),
        opt_clock(l.created_at),
        opt_clock(l.started_at),
        opt_clock(draining),
        opt_clock(l.stopped_at),
    );
}

/// Alerts listed in full before the rest fold away (still in the page, as text).
const LISTED: usize = 30;

fn alert_list(out: &mut String, alerts: &[AlertMark]) {
    out.push_str(r#"<ol class="alerts">"#);
    for (i, a) in alerts.iter().enumerate() {
        if i == LISTED {
            let _ = write!(
                out,
                r#"</ol><details><summary>{} more alert(s)</summary><ol class="alerts" start="{}">"#,
                alerts.len() - LISTED,
                LISTED + 1
            );
        }
        let word = severity_word(a);
        let symbol = match word {
            "critical" => "◆",
            "warning" => "▲",
            "resolved" => "○",
            _ => "●",
        };
        let _ = write!(
            out,
            r#"<li><span class="sev {word}">{symbol} {}</span> {} <code>{}</code>: {}</li>"#,
            word.to_uppercase(),
            clock(a.at),
            esc(&a.name),
            esc(&a.summary)
        );
    }
    out.push_str("</ol>");
    if alerts.len() > LISTED {
        out.push_str("</details>");
    }
}
