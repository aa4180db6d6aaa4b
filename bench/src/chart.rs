//! The chart: the headline ratios as bars, and replay cost per step by
//! history size (flat when replay scales linearly). SVG, via plotters.

use std::path::Path;

use plotters::prelude::*;

use crate::BenchError;
use crate::results::Results;

fn chart_error(error: impl std::fmt::Display) -> BenchError {
    BenchError::Report(format!("drawing the chart: {error}"))
}

/// The bars: a label and a ratio.
fn ratio_bars(results: &Results) -> Vec<(String, f64)> {
    let mut bars = Vec::new();
    for run in &results.sequential {
        if let Some(ratio) = run.ratio_median {
            bars.push((format!("seq {}", run.backend.label()), ratio));
        }
    }
    for run in &results.throughput {
        // Throughput: how many raw commits one durable step costs.
        if let Some(ratio) = run.ratio.filter(|r| *r > 0.0) {
            bars.push((format!("tput {}", run.backend.label()), 1.0 / ratio));
        }
    }
    if let Some(ratio) = results.peers.dbos_ratio_median {
        bars.push(("seq DBOS".into(), ratio));
    }
    bars
}

/// Writes the chart to `path`.
pub fn write(results: &Results, path: &Path) -> Result<(), BenchError> {
    let root = SVGBackend::new(path, (1100, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let (left, right) = root.split_horizontally(600);

    let bars = ratio_bars(results);
    let top = bars.iter().map(|(_, r)| *r).fold(1.0_f64, f64::max) * 1.15;
    let count = bars.len().max(1);
    let labels: Vec<String> = bars.iter().map(|(l, _)| l.clone()).collect();
    let mut chart = ChartBuilder::on(&left)
        .caption("Cost of a durable step, in raw commits", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5_f64..crate::stats::count_f64(count) - 0.5, 0.0_f64..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count)
        .x_label_formatter(&|x| {
            // Bar i is centred on x = i: label whole numbers only.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let index = x.round().max(0.0) as usize;
            if (x - x.round()).abs() < 0.01 {
                labels.get(index).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("× raw INSERT+COMMIT")
        .draw()
        .map_err(chart_error)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, ratio))| {
            let x = crate::stats::count_f64(i);
            Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, *ratio)],
                BLUE.mix(0.6).filled(),
            )
        }))
        .map_err(chart_error)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, ratio))| {
            let x = crate::stats::count_f64(i);
            Text::new(
                format!("{ratio:.1}×"),
                (x + 0.3, *ratio),
                ("sans-serif", 13),
            )
        }))
        .map_err(chart_error)?;

    let points: Vec<(f64, f64)> = results
        .replay
        .iter()
        .map(|r| (crate::stats::count_f64(r.steps), r.replay_per_step_us))
        .collect();
    let x_max = points.iter().map(|p| p.0).fold(1_000.0_f64, f64::max) * 2.0;
    let y_max = points.iter().map(|p| p.1).fold(1.0_f64, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(&right)
        .caption("Replay cost per step (in memory)", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((100.0_f64..x_max).log_scale(), 0.0_f64..y_max)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc("recorded steps")
        .y_desc("µs per step")
        .draw()
        .map_err(chart_error)?;
    chart
        .draw_series(LineSeries::new(points.clone(), &RED))
        .map_err(chart_error)?;
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, 4, RED.filled())))
        .map_err(chart_error)?;
    root.present().map_err(chart_error)
}
