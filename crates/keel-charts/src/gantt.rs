//! Gantt charts: tasks as bars on a day axis, with the critical path highlighted and an optional
//! milestone (the launch date), for request plans.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use serde::{Deserialize, Serialize};

use crate::svg::{self, Anchor, Font, num, text, truncate};
use crate::table::html_table;
use crate::{Chart, theme};

/// One task bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GanttTask {
    /// Task name.
    pub label: String,
    /// Who does it.
    pub assignee: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub finish: NaiveDate,
    /// On the critical path.
    pub critical: bool,
}

/// A Gantt chart of tasks over days.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Gantt {
    /// Title (accessible name).
    pub title: String,
    /// Tasks, top to bottom.
    pub tasks: Vec<GanttTask>,
    /// A milestone drawn as a diamond and a line (e.g. the launch date) with its label.
    pub milestone: Option<(NaiveDate, String)>,
}

const WIDTH: f64 = 760.0;
const LABEL_W: f64 = 200.0;
const ROW_H: f64 = 24.0;
const AXIS_H: f64 = 22.0;

impl Gantt {
    fn span(&self) -> Option<(NaiveDate, NaiveDate)> {
        let mut dates: Vec<NaiveDate> = self
            .tasks
            .iter()
            .flat_map(|t| [t.start, t.finish.max(t.start)])
            .collect();
        if let Some((d, _)) = &self.milestone {
            dates.push(*d);
        }
        Some((*dates.iter().min()?, *dates.iter().max()?))
    }
}

impl Chart for Gantt {
    fn render(&self) -> String {
        let Some((first, last)) = self.span() else {
            return svg::empty_state("gantt", &self.title, "Plan", (WIDTH, 120.0), "No tasks");
        };
        let days = (last - first).num_days() + 1;
        let plot_w = WIDTH - LABEL_W - svg::PAD * 2.0;
        let day_w = plot_w / days as f64;
        let mut out = String::new();
        let height = svg::PAD * 2.0
            + svg::TITLE_BAND
            + AXIS_H
            + ROW_H * self.tasks.len() as f64
            + if self.milestone.is_some() { 18.0 } else { 0.0 };
        let critical = self.tasks.iter().filter(|t| t.critical).count();
        let desc = format!(
            "{} tasks from {first} to {last}; {critical} on the critical path{}.",
            self.tasks.len(),
            self.milestone
                .as_ref()
                .map(|(d, l)| format!("; {l} on {d}"))
                .unwrap_or_default()
        );
        svg::open(&mut out, "gantt", (WIDTH, height), &self.title, &desc, None);
        let top = svg::title(&mut out, &self.title, WIDTH);
        let x0 = svg::PAD + LABEL_W;
        let x_of = |d: NaiveDate| x0 + (d - first).num_days() as f64 * day_w;
        let body_top = top + AXIS_H;
        let body_h = ROW_H * self.tasks.len() as f64;
        // Weekends shaded so working days read at a glance.
        let mut d = first;
        while d <= last {
            if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                let _ = write!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                    num(x_of(d)),
                    num(body_top),
                    num(day_w),
                    num(body_h),
                    theme::TRACK
                );
            }
            d += TimeDelta::days(1);
        }
        // Axis labels: every Monday (or every day for short plans).
        let step_daily = days <= 14;
        let mut d = first;
        while d <= last {
            if step_daily || d.weekday() == Weekday::Mon || d == first {
                text(
                    &mut out,
                    x_of(d) + 2.0,
                    top + 14.0,
                    &Font::new(10.0, theme::MUTED),
                    &d.format("%b %-d").to_string(),
                    &d.to_string(),
                );
                let _ = write!(
                    out,
                    "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>",
                    num(body_top),
                    num(body_top + body_h),
                    theme::GRID,
                    x = num(x_of(d)),
                );
            }
            d += TimeDelta::days(1);
        }
        for (i, t) in self.tasks.iter().enumerate() {
            let y = body_top + ROW_H * i as f64;
            let label = format!("{} · {}", t.label, t.assignee);
            text(
                &mut out,
                svg::PAD,
                y + 16.0,
                &Font::new(12.0, theme::TEXT),
                &truncate(&label, LABEL_W - 8.0, 12.0),
                &label,
            );
            let finish = t.finish.max(t.start);
            let w = ((finish - t.start).num_days() + 1) as f64 * day_w;
            let fill = if t.critical {
                theme::ACCENT.to_owned()
            } else {
                theme::series_colour(0)
            };
            let _ = write!(
                out,
                "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{fill}\"><title>{}: {} → {} ({}){}</title></rect>",
                if t.critical { "critical" } else { "task" },
                num(x_of(t.start)),
                num(y + 5.0),
                num(w.max(2.0)),
                num(ROW_H - 10.0),
                svg::escape(&t.label),
                t.start,
                finish,
                svg::escape(&t.assignee),
                if t.critical { ", critical path" } else { "" }
            );
        }
        if let Some((date, label)) = &self.milestone {
            let x = x_of(*date) + day_w / 2.0;
            let y_end = body_top + body_h;
            let _ = write!(
                out,
                "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/><path d=\"M{x} {a} l6 6 l-6 6 l-6 -6 z\" fill=\"{}\"/>",
                num(body_top),
                num(y_end),
                theme::BAD,
                theme::BAD,
                x = num(x),
                a = num(y_end),
            );
            text(
                &mut out,
                x,
                y_end + 18.0 + 10.0,
                &Font::new(11.0, theme::TEXT).bold().anchor(Anchor::Middle),
                &format!("{label} {}", date.format("%b %-d")),
                &format!("{label} {date}"),
            );
        }
        svg::close(&mut out);
        out
    }

    fn to_html_table(&self) -> String {
        let headers = ["Task", "Who", "Start", "Finish", "Critical"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>();
        let rows: Vec<Vec<String>> = self
            .tasks
            .iter()
            .map(|t| {
                vec![
                    t.label.clone(),
                    t.assignee.clone(),
                    t.start.to_string(),
                    t.finish.to_string(),
                    if t.critical { "yes" } else { "" }.to_owned(),
                ]
            })
            .collect();
        html_table(&self.title, &headers, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn draws_critical_tasks_and_the_milestone() {
        let g = Gantt {
            title: "Plan".into(),
            tasks: vec![
                GanttTask {
                    label: "Copy".into(),
                    assignee: "amira".into(),
                    start: d("2026-03-02"),
                    finish: d("2026-03-03"),
                    critical: true,
                },
                GanttTask {
                    label: "Design <hero>".into(),
                    assignee: "sofia".into(),
                    start: d("2026-03-02"),
                    finish: d("2026-03-02"),
                    critical: false,
                },
            ],
            milestone: Some((d("2026-03-06"), "Launch".into())),
        };
        let svg = g.render();
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("class=\"critical\"").count(), 1);
        assert_eq!(svg.matches("class=\"task\"").count(), 1);
        assert!(svg.contains("Design &lt;hero&gt;"));
        assert!(svg.contains("Launch Mar 6"));
        assert!(g.to_html_table().contains("<td>yes</td>"));
    }

    #[test]
    fn empty_plan_is_an_empty_state() {
        let svg = Gantt::default().render();
        assert!(svg.contains("No tasks"));
    }
}
