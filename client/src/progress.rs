//! The download progress bar on stderr (size, rate, ETA), shown only when the body goes to a
//! file or a pipe and stderr is a terminal, and never with `-s` (as curl's progress meter).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar for a body of `total` bytes (a spinner when unknown), or nothing when `enabled`
    /// is false.
    pub fn new(enabled: bool, total: Option<u64>) -> Self {
        if !enabled {
            return Self { bar: None };
        }
        let bar = match total {
            Some(len) => {
                let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                ) {
                    bar.set_style(style);
                }
                bar
            }
            None => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} {bytes} {binary_bytes_per_sec} {elapsed}",
                ) {
                    bar.set_style(style);
                }
                bar
            }
        };
        Self { bar: Some(bar) }
    }

    pub fn add(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    pub fn abandon(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}
