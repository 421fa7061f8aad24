//! `replay --format html` read as a document: one article per rollout, one section per
//! service, the numbers of `--format json`, event text that stays text, a capped lane
//! count for a 500-task service, and a page filled by hand (as `history` will) that
//! draws stages and rollouts without task lanes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

use rollout_watcher::core::{AlertStatus, RolloutState, RolloutSummary, Severity};
use rollout_watcher::model::{DeploymentId, Millis, ServiceArn, Timestamp};
use rollout_watcher_cli::html::{self, AlertMark, Page, RolloutView, ServiceView, StageMark};
use rollout_watcher_cli::simulate::{Params, Scenario, busy_account, simulate};
use serde_json::Value;

/// Writes `events` as JSON Lines to a file of its own; returns its path and the
/// instant just past the stall deadline after the last event (for `--now`).
fn stream_file(name: &str, events: &[Value]) -> (PathBuf, String) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-page");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&path, text).unwrap();
    let last = events
        .iter()
        .filter_map(|e| Timestamp::parse(e["time"].as_str()?))
        .max()
        .unwrap();
    let now = last.plus(Millis::from_secs(16 * 60)).to_rfc3339();
    (path, now)
}

fn replay(path: &PathBuf, now: &str, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rollout-watcher"))
        .arg("replay")
        .arg(path)
        .args(["--now", now, "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "replay --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `rollout` lines of `--format json`, by (service name, deployment).
fn json_rollouts(json: &str) -> Vec<Value> {
    json.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "rollout")
        .collect()
}

/// Each `<article class="rollout">` of the page: its deployment and the machine
/// values of its `<data data-field=...>` elements.
fn page_rollouts(page: &str) -> Vec<(String, HashMap<String, String>)> {
    page.split(r#"<article class="rollout"#)
        .skip(1)
        .map(|article| {
            let article = article.split("</article>").next().unwrap();
            let dep = between(article, r#"data-deployment=""#, "\"").to_owned();
            let fields = article
                .split(r#"<data data-field=""#)
                .skip(1)
                .map(|d| {
                    let name = d.split('"').next().unwrap().to_owned();
                    let value = between(d, r#"value=""#, "\"").to_owned();
                    (name, value)
                })
                .collect();
            (dep, fields)
        })
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap() + start.len();
    let len = text[from..].find(end).unwrap();
    &text[from..from + len]
}

/// The JSON number `v` as the page writes it (`null` for none).
fn number(v: &Value) -> String {
    if v.is_null() {
        "null".to_owned()
    } else {
        v.to_string()
    }
}

/// Each scenario, and a busy account's 6,000 events over hundreds of services: the
/// page has one article per `rollout` line of `--format json` and one section per
/// service, and every article's state, duration, downtime and failure counts are the
/// JSON line's, to the digit.
#[test]
fn every_rollout_has_an_article_with_the_json_outputs_numbers() {
    let mut streams: Vec<(String, Vec<Value>)> = Scenario::ALL
        .iter()
        .map(|s| {
            (
                s.name().to_owned(),
                simulate(&Params::defaults(*s)).unwrap().events,
            )
        })
        .collect();
    // Past the chart budget: the rollouts after the first MAX_CHARTS are one-line
    // articles, with the same numbers.
    streams.push(("busy-account".to_owned(), busy_account(6_000).unwrap()));
    for (name, events) in streams {
        let (path, now) = stream_file(&name, &events);
        let json = json_rollouts(&replay(&path, &now, "json"));
        let page = replay(&path, &now, "html");
        let articles = page_rollouts(&page);
        assert_eq!(
            articles.len(),
            json.len(),
            "{name}: one article per rollout"
        );
        let services: BTreeSet<&str> = json
            .iter()
            .map(|r| r["service"].as_str().unwrap())
            .collect();
        assert_eq!(
            page.matches(r#"<section class="service""#).count(),
            services.len(),
            "{name}: one section per service"
        );
        let by_dep: HashMap<(String, String), &Value> = json
            .iter()
            .map(|r| {
                let svc = ServiceArn::parse(r["service"].as_str().unwrap()).unwrap();
                (
                    (
                        svc.name().to_owned(),
                        r["deployment_id"].as_str().unwrap().to_owned(),
                    ),
                    r,
                )
            })
            .collect();
        // Sections are worst first: articles are matched to JSON lines by service.
        let mut seen = 0;
        for section in page.split(r#"<section class="service""#).skip(1) {
            let svc = between(section, r#"data-service=""#, "\"");
            for (dep, fields) in page_rollouts(section) {
                let r = by_dep
                    .get(&(svc.to_owned(), dep.clone()))
                    .unwrap_or_else(|| panic!("{name}: {svc} {dep} is not in the JSON output"));
                assert_eq!(
                    fields["state"],
                    r["state"].as_str().unwrap(),
                    "{name} {dep}"
                );
                assert_eq!(
                    fields["duration_s"],
                    number(&r["duration_s"]),
                    "{name} {dep}"
                );
                assert_eq!(
                    fields["downtime_s"],
                    number(&r["downtime_s"]),
                    "{name} {dep}"
                );
                seen += 1;
            }
        }
        assert_eq!(seen, json.len(), "{name}");
        if name == "busy-account" {
            assert!(json.len() > html::MAX_CHARTS, "{} rollouts", json.len());
            assert_eq!(page.matches("<figure>").count(), html::MAX_CHARTS, "{name}");
            assert!(page.contains(r#"<article class="rollout brief""#), "{name}");
        }
    }
}

/// The failure counts on the page are the summaries' (the JSON line has no field
/// for them; the summary is the one both outputs are made from).
#[test]
fn failure_counts_are_the_summaries() {
    let p = Params::defaults(Scenario::HealthCheckRollback);
    let (path, now) = stream_file("hc-counts", &simulate(&p).unwrap().events);
    let page = replay(&path, &now, "html");
    let (_, replay) = rollout_watcher_cli::demo::replay_scenario(&p, &Default::default()).unwrap();
    let main = replay
        .rollouts()
        .into_iter()
        .find(|r| r.rollback_of.is_none())
        .unwrap();
    assert!(main.health_check_failures > 0);
    let fields = page_rollouts(&page)
        .into_iter()
        .find(|(d, _)| d == main.deployment_id.as_str())
        .unwrap()
        .1;
    assert_eq!(
        fields["health_check_failures"],
        main.health_check_failures.to_string()
    );
    assert_eq!(fields["start_failures"], main.start_failures.to_string());
}

const HOSTILE: &str = r#"</title></desc></text><script>alert(1)</script><img src=x onerror=alert(2)>"' &amp; ]]><!--"#;

/// Markup in every free text an event carries (stop reasons, exit reasons, the task
/// definition, the deployment's reason) reaches the page as text: no element, no
/// attribute, no comment is made of it, and the words are all there, escaped.
#[test]
fn hostile_event_text_stays_text() {
    let mut events = simulate(&Params::defaults(Scenario::HealthCheckRollback))
        .unwrap()
        .events;
    for e in &mut events {
        let d = &mut e["detail"];
        if d.get("stoppedReason").is_some() {
            d["stoppedReason"] = Value::from(HOSTILE);
        }
        if d.get("taskDefinitionArn").is_some() {
            d["taskDefinitionArn"] = Value::from(format!(
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/{HOSTILE}:7"
            ));
        }
        if d.get("reason").is_some() {
            d["reason"] = Value::from(HOSTILE);
        }
        if let Some(cs) = d.get_mut("containers").and_then(Value::as_array_mut) {
            for c in cs {
                c["reason"] = Value::from(HOSTILE);
            }
        }
    }
    let (path, now) = stream_file("hostile", &events);
    let page = replay(&path, &now, "html");
    let lower = page.to_lowercase();
    assert!(!lower.contains("<script"), "a script element was made");
    assert!(!lower.contains("<img"), "an image element was made");
    assert!(!page.contains("<!--"), "a comment was opened");
    assert!(!page.contains("\"' "), "a quote came through raw");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the text is shown"
    );
    assert!(
        page.contains("&amp;amp;"),
        "an entity in the text is shown, not decoded"
    );
    // Every element the page opens is one it means to: tags are a closed set.
    let tags: BTreeSet<&str> = page
        .split('<')
        .skip(1)
        .map(|t| t.split([' ', '>', '/', '\n']).next().unwrap())
        .filter(|t| !t.is_empty() && !t.starts_with('!'))
        .collect();
    let allowed = [
        "a",
        "article",
        "body",
        "caption",
        "circle",
        "code",
        "data",
        "dd",
        "defs",
        "desc",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "g",
        "h1",
        "h2",
        "h3",
        "head",
        "header",
        "html",
        "li",
        "line",
        "main",
        "meta",
        "ol",
        "p",
        "path",
        "pattern",
        "rect",
        "section",
        "span",
        "style",
        "summary",
        "svg",
        "table",
        "tbody",
        "td",
        "text",
        "th",
        "thead",
        "title",
        "tr",
    ];
    let unexpected: Vec<&&str> = tags.iter().filter(|t| !allowed.contains(t)).collect();
    assert!(unexpected.is_empty(), "unexpected elements: {unexpected:?}");
}

/// A 500-task rollout that fails its health checks: each chart has at most
/// `MAX_LANES` task lanes, the caption says how many tasks there were, the failures
/// are among the lanes, and the page stays small.
#[test]
fn a_500_task_service_gets_a_capped_chart() {
    let mut p = Params::defaults(Scenario::HealthCheckRollback);
    p.desired = 500;
    let (path, now) = stream_file("desired-500", &simulate(&p).unwrap().events);
    let page = replay(&path, &now, "html");
    for article in page.split(r#"<article class="rollout""#).skip(1) {
        let article = article.split("</article>").next().unwrap();
        let lanes = article.matches(r#"<g class="lane"#).count();
        assert!(lanes <= html::MAX_LANES, "{lanes} lanes");
        let rows = article.matches("<tr><td").count();
        assert_eq!(rows, lanes, "one table row per lane");
    }
    assert!(
        page.contains(&format!("({} of ", html::MAX_LANES)),
        "the caption counts the hidden tasks"
    );
    assert!(
        page.contains(r#"<g class="lane failed""#),
        "failed tasks have lanes"
    );
    assert!(page.len() < 400_000, "page of {} bytes", page.len());
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// What `history` will do: fill the page from stored summaries, with no task events,
/// and with the stages an ECS-native (blue/green) deployment went through. The page
/// draws the band, the stages (in the chart and in its text) and the alerts, and says
/// that there are no task lanes instead of drawing empty ones.
#[test]
fn a_page_filled_by_hand_draws_stages_without_lanes() {
    let service = ServiceArn::parse("arn:aws:ecs:eu-west-1:123456789012:service/prod/api").unwrap();
    let summary = RolloutSummary {
        service: service.clone(),
        deployment_id: DeploymentId::parse("ecs-svc/42").unwrap(),
        state: RolloutState::Completed,
        started_at: Some(at("2026-03-02T10:00:00Z")),
        finished_at: Some(at("2026-03-02T10:12:00Z")),
        duration_s: Some(720.0),
        downtime_s: 0.0,
        task_definition: Some("api:9".to_owned()),
        rollback_of: None,
        health_check_failures: 0,
        start_failures: 0,
        stalled: false,
        first_running_at: Some(at("2026-03-02T10:01:00Z")),
        crashes: 0,
        downtime_known: true,
    };
    let stages = [
        "RECONCILE_SERVICE",
        "PRE_SCALE_UP",
        "SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ];
    let view = RolloutView {
        span: (at("2026-03-02T09:59:00Z"), at("2026-03-02T10:14:00Z")),
        band: vec![
            (RolloutState::Started, at("2026-03-02T10:00:00Z")),
            (RolloutState::TasksRunning, at("2026-03-02T10:01:00Z")),
            (RolloutState::Completed, at("2026-03-02T10:12:00Z")),
        ],
        stages: stages
            .iter()
            .enumerate()
            .map(|(i, s)| StageMark {
                name: (*s).to_owned(),
                at: at("2026-03-02T10:00:00Z").plus(Millis::from_secs(90 * i as i64)),
            })
            .collect(),
        alerts: vec![AlertMark {
            name: "deployment_completed".to_owned(),
            severity: Severity::Info,
            status: AlertStatus::Firing,
            at: at("2026-03-02T10:12:00Z"),
            summary: "api: completed".to_owned(),
        }],
        lanes: Vec::new(),
        hidden_lanes: 0,
        serving: Vec::new(),
        zero_windows: Vec::new(),
        summary,
    };
    let page = html::document(&Page {
        title: "history".to_owned(),
        subtitle: None,
        services: vec![ServiceView {
            heading: "api (prod)".to_owned(),
            name: "api".to_owned(),
            cluster: "prod".to_owned(),
            rollouts: vec![view],
            ..ServiceView::default()
        }],
    });
    assert_eq!(page.matches(r#"<g class="stage s"#).count(), stages.len());
    let desc = between(&page, "<figcaption>", "</figcaption>");
    for s in stages {
        assert!(desc.contains(s), "the text alternative names stage {s}");
    }
    assert!(page.contains(r#"<data data-field="duration_s" value="720.0">12 min</data>"#));
    assert!(page.contains("No task events for this rollout."));
    assert_eq!(page.matches(r#"<g class="lane"#).count(), 0);
}

/// An empty page (a replay of nothing the watcher follows, a history window with no
/// rollout) says so in words, rather than heading an empty table with "0 service(s),
/// 0 rollout(s), worst first".
#[test]
fn a_page_with_no_rollout_says_so_instead_of_an_empty_table() {
    let page = html::document(&Page {
        title: "rollout-watcher history".to_owned(),
        subtitle: None,
        services: Vec::new(),
    });
    assert!(page.contains("No rollout to show"), "{page}");
    assert!(!page.contains("<table"), "an empty table: {page}");
    assert!(page.contains("</main>") && page.contains("</html>"));
}
