//! The command line's view of an import's [`Progress`]: a progress bar by bytes read when stderr
//! is a terminal, plain periodic lines otherwise (logs, pipes, tests).

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::{Counted, Dataset, Pass, Progress, ProgressFn};

/// Shows an import's progress on stderr.
pub struct ProgressDisplay {
    bar: Option<ProgressBar>,
    dataset: Dataset,
}

impl ProgressDisplay {
    /// A bar over `file_size` bytes if stderr is a terminal, plain lines otherwise.
    pub fn on_stderr(dataset: Dataset, file_size: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(file_size);
            let style = ProgressStyle::with_template(
                "{prefix:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
            )
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix("validating");
            bar
        });
        Self { bar, dataset }
    }

    /// The function to hand to [`super::import_file`].
    pub fn sink(&self) -> ProgressFn {
        let noun = match self.dataset.counted() {
            Counted::Rows => "rows",
            Counted::Documents => "documents",
            Counted::Products | Counted::Prices => "catalog documents",
        };
        match self.bar.clone() {
            Some(bar) => Arc::new(move |progress| match progress {
                Progress::Read { pass, bytes, total } => {
                    let prefix = if pass == Pass::Validate { "validating" } else { "writing" };
                    if bar.prefix() != prefix {
                        bar.set_prefix(prefix);
                        bar.reset();
                    }
                    bar.set_length(total);
                    bar.set_position(bytes);
                }
                Progress::Validated(rows) => bar.set_message(format!("{rows} rows")),
                Progress::Written { done, total } => bar.set_message(format!("wrote {done} of {total} {noun}")),
            }),
            None => Arc::new(move |progress| match progress {
                Progress::Read { .. } => {}
                Progress::Validated(rows) => eprintln!("validated {rows} rows"),
                Progress::Written { done, total } => eprintln!("wrote {done} of {total} {noun}"),
            }),
        }
    }

    /// Removes the bar (the summary follows on stdout).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
