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
