//! The findings of `scan` and `check` in the formats CI systems display, below the command line
//! (which picks one with `--format`) and above the policy and vulnerability stages whose results it
//! renders: [`sarif`] for code-scanning pages, [`junit`] for test tabs, [`gitlab`] for GitLab's
//! container-scanning report, [`github`] for GitHub Actions annotations and job summaries, with [`markdown`]'s escaping.
//! Each writer only renders what it is given; nothing here reads an image or judges one.

pub mod github;
pub mod gitlab;
pub mod junit;
pub mod markdown;
pub mod sarif;

/// The Dockerfile the image was built from, as the repository names it (`--dockerfile`), and the
/// line that made each of the image's layers (bottom first; `None` where not known): findings on a
/// layer's files point at that line, as code-scanning pages and annotations show it.
pub struct DockerfileLines {
    pub uri: String,
    pub lines: Vec<Option<usize>>,
}

impl DockerfileLines {
    /// The line that made layer `index`, when known.
    pub fn line_of(&self, index: Option<usize>) -> Option<usize> {
        self.lines.get(index?).copied().flatten()
    }
}
