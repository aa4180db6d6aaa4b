//! The progress bar on standard error while the workloads run.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar counting the phases of the run.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `phases` phases.
    pub fn new(phases: u64) -> Self {
        let bar = ProgressBar::new(phases);
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Self { bar }
    }

    /// Says what runs now.
    pub fn phase(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }

    /// Counts `n` phases done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Prints a line above the bar.
    pub fn note(&self, line: impl AsRef<str>) {
        self.bar.println(line.as_ref());
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
