//! The comparison for people: a table for the terminal (values from the images with control
//! characters escaped) and Markdown for a pull-request comment (cells escaped by
//! [`crate::ci::markdown::cell`]).

use super::{Direction, ImageDiff, RuleChange};
use crate::ci::markdown::cell;
use crate::policy::verdict::{Outcome, RuleStatus};
use crate::text::escape_controls;
use std::io::{self, Write};

fn outcome(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "PASSED",
        Outcome::Failed => "FAILED",
    }
}

fn status(s: Option<RuleStatus>) -> &'static str {
    match s {
        Some(RuleStatus::Passed) => "pass",
        Some(RuleStatus::Failed) => "FAIL",
        Some(RuleStatus::Warned) => "warn",
        Some(RuleStatus::NotApplicable) => "n/a",
        None => "-",
    }
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::Upgraded => "upgraded",
        Direction::Downgraded => "DOWNGRADED",
        Direction::Changed => "changed",
    }
}

/// What the base line says.
fn base_line(diff: &ImageDiff) -> String {
    let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "unknown".to_string());
    let said = match diff.base.changed {
        Some(true) => "changed",
        Some(false) => "unchanged",
        None => "not known",
    };
    format!(
        "{said}: {} -> {} ({} shared bottom layer{})",
        name(&diff.base.old),
        name(&diff.base.new),
        diff.base.shared_layers,
        if diff.base.shared_layers == 1 {
            ""
        } else {
            "s"
        }
    )
}

fn rule_line(r: &RuleChange) -> (String, String) {
    (
        r.id.clone(),
        format!(
            "{} ({}) -> {} ({})",
            status(r.old),
            r.old_findings,
            status(r.new),
            r.new_findings
        ),
    )
}

/// The table for the terminal.
pub fn write_table(diff: &ImageDiff, out: &mut dyn Write) -> io::Result<()> {
    let e = |t: &str| escape_controls(t).into_owned();
    writeln!(
        out,
        "Old    {} ({})",
        e(&diff.old.reference),
        diff.old.digest
    )?;
    writeln!(
        out,
        "New    {} ({})",
        e(&diff.new.reference),
        diff.new.digest
    )?;
    writeln!(out, "Base   {}", e(&base_line(diff)))?;
    writeln!(
        out,
        "Policy {}: {} -> {}",
        e(&diff.policy.policy),
        outcome(diff.policy.old),
        outcome(diff.policy.new)
    )?;
    let p = &diff.packages;
    writeln!(
        out,
        "\nPackages: {} added, {} removed, {} changed",
        p.added.len(),
        p.removed.len(),
        p.changed.len()
    )?;
    for a in &p.added {
        writeln!(out, "  + {} {}  {}", e(&a.name), e(&a.version), e(&a.purl))?;
    }
    for r in &p.removed {
        writeln!(out, "  - {} {}  {}", e(&r.name), e(&r.version), e(&r.purl))?;
    }
    for c in &p.changed {
        writeln!(
            out,
            "  ~ {} {} -> {} ({})",
            e(&c.name),
            e(&c.from),
            e(&c.to),
            arrow(c.direction)
        )?;
    }
    match &diff.findings {
        None => writeln!(
            out,
            "\nVulnerabilities: not compared (no vulnerability source was given)"
        )?,
        Some(f) => {
            writeln!(
                out,
                "\nVulnerabilities: {} new, {} fixed",
                f.new.len(),
                f.fixed.len()
            )?;
            for (sign, list) in [("+", &f.new), ("-", &f.fixed)] {
                for finding in list {
                    writeln!(
                        out,
                        "  {sign} {} {:<8} {} {}",
                        e(&finding.id),
                        finding.severity.to_string(),
                        e(&finding.package),
                        e(&finding.version)
                    )?;
                }
            }
        }
    }
    writeln!(out, "\nPolicy rules changed: {}", diff.policy.rules.len())?;
    for r in &diff.policy.rules {
        let (id, line) = rule_line(r);
        writeln!(out, "  {}: {line}", e(&id))?;
    }
    Ok(())
}

/// Markdown, for a pull-request comment.
pub fn markdown(diff: &ImageDiff) -> String {
    use std::fmt::Write as _;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## vouch diff: {} → {}\n",
        cell(&diff.old.reference),
        cell(&diff.new.reference)
    );
    let _ = writeln!(
        md,
        "| | Old | New |\n|---|---|---|\n| Digest | `{}` | `{}` |\n| Base image | {} | {} |\n| Policy {} | {} | {} |\n",
        cell(&diff.old.digest),
        cell(&diff.new.digest),
        cell(diff.base.old.as_deref().unwrap_or("unknown")),
        cell(diff.base.new.as_deref().unwrap_or("unknown")),
        cell(&diff.policy.policy),
        outcome(diff.policy.old),
        outcome(diff.policy.new)
    );
    let _ = writeln!(md, "Base image {}.\n", cell(&base_line(diff)));
    let p = &diff.packages;
    let _ = writeln!(
        md,
        "### Packages: {} added, {} removed, {} changed\n",
        p.added.len(),
        p.removed.len(),
        p.changed.len()
    );
    if !(p.added.is_empty() && p.removed.is_empty() && p.changed.is_empty()) {
        md.push_str("| | Package | Old | New |\n|---|---|---|---|\n");
        for a in &p.added {
            let _ = writeln!(md, "| added | {} | | {} |", cell(&a.name), cell(&a.version));
        }
        for r in &p.removed {
            let _ = writeln!(
                md,
                "| removed | {} | {} | |",
                cell(&r.name),
                cell(&r.version)
            );
        }
        for c in &p.changed {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                arrow(c.direction),
                cell(&c.name),
                cell(&c.from),
                cell(&c.to)
            );
        }
        md.push('\n');
    }
    match &diff.findings {
        None => {
            md.push_str("### Vulnerabilities: not compared (no vulnerability source was given)\n\n")
        }
        Some(f) => {
            let _ = writeln!(
                md,
                "### Vulnerabilities: {} new, {} fixed\n",
                f.new.len(),
                f.fixed.len()
            );
            if !(f.new.is_empty() && f.fixed.is_empty()) {
                md.push_str(
                    "| | Vulnerability | Severity | Package | Version |\n|---|---|---|---|---|\n",
                );
                for (what, list) in [("new", &f.new), ("fixed", &f.fixed)] {
                    for finding in list {
                        let _ = writeln!(
                            md,
                            "| {what} | {} | {} | {} | {} |",
                            cell(&finding.id),
                            finding.severity,
                            cell(&finding.package),
                            cell(&finding.version)
                        );
                    }
                }
                md.push('\n');
            }
        }
    }
    let _ = writeln!(
        md,
        "### Policy rules changed: {}\n",
        diff.policy.rules.len()
    );
    if !diff.policy.rules.is_empty() {
        md.push_str("| Rule | Old | New |\n|---|---|---|\n");
        for r in &diff.policy.rules {
            let _ = writeln!(
                md,
                "| {} | {} ({}) | {} ({}) |",
                cell(&r.id),
                status(r.old),
                r.old_findings,
                status(r.new),
                r.new_findings
            );
        }
        md.push('\n');
    }
    md
}
