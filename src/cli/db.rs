//! `docker vouch db update` and `docker vouch db status`: the local vulnerability database
//! (`vuln::db::store`), fetched by `vuln::db::update` and described here. Update exits 0 when every
//! ecosystem is current, 3 when one failed (it keeps what it had); status exits 1 when the database
//! is empty or an ecosystem is older than `--max-age`.

use super::{DbCommand, DbDirArg, DbStatusArgs, DbUpdateArgs};
use crate::pipeline::Context;
use crate::text::write_columns;
use crate::vuln::db::store::{age_seconds, default_dir, describe_age, Store};
use crate::vuln::db::update::{
    listed_ecosystems, unlisted, update, Item, Limits, Origin, Outcome, Source, DEFAULT_ECOSYSTEMS,
    DEFAULT_SOURCE,
};
use crate::vuln::feeds::Feed;
use crate::UsageError;
use std::process::ExitCode;

/// Exit code of `status` when the database is missing or too old.
pub const EXIT_STALE: u8 = 1;

pub fn run(context: &Context, command: &DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Update(args) => run_update(context, args),
        DbCommand::Status(args) => run_status(context, args),
    }
}

/// The database `--db-dir` names, else the default one.
pub fn store_of(context: &Context, arg: &DbDirArg) -> Store {
    Store::new(
        arg.db_dir
            .clone()
            .unwrap_or_else(|| default_dir(context.env())),
    )
}

fn run_update(context: &Context, args: &DbUpdateArgs) -> anyhow::Result<ExitCode> {
    // An empty $VOUCH_DB_SOURCE (a CI variable left unset) is no mirror.
    let mirror = args.source.as_deref().filter(|s| !s.is_empty());
    let source = Source::parse(mirror.unwrap_or(DEFAULT_SOURCE))
        .map_err(|e| UsageError(format!("--source {e}")))?;
    let store = store_of(context, &args.db);
    let seen = store.seen();
    let mut ecosystems: Vec<String> = Vec::new();
    for name in args.ecosystems.iter().map(|n| n.trim()) {
        let names: Vec<String> = match name {
            "" => continue,
            "default" => DEFAULT_ECOSYSTEMS.iter().map(|n| n.to_string()).collect(),
            // The ecosystems of the images judged with this database, else the default set.
            "auto" if !seen.is_empty() => seen.iter().cloned().collect(),
            "auto" => DEFAULT_ECOSYSTEMS.iter().map(|n| n.to_string()).collect(),
            name => vec![name.to_string()],
        };
        for name in names {
            if !ecosystems.contains(&name) {
                ecosystems.push(name);
            }
        }
    }
    if ecosystems.is_empty() {
        return Err(UsageError("--ecosystems names none".into()).into());
    }
    // The source's own list, when it has one: a name it does not list is refused before anything
    // is fetched. A list that cannot be read leaves the names unchecked, with a warning.
    let listed = listed_ecosystems(&source).unwrap_or_else(|e| {
        context.warn(&format!(
            "the source's list of ecosystems could not be read ({e}): the names are not checked"
        ));
        None
    });
    if let Some(listed) = &listed {
        let unknown: Vec<String> = ecosystems
            .iter()
            .filter_map(|name| unlisted(name, listed))
            .collect();
        if !unknown.is_empty() {
            return Err(UsageError(unknown.join("; ")).into());
        }
    }
    let kept = store.manifest()?;
    let feeds: Vec<Feed> = Feed::ALL
        .into_iter()
        .filter(|feed| match feed {
            Feed::Kev => args.kev,
            Feed::Epss => args.epss,
        } || kept.feeds.contains_key(feed.name()))
        .collect();
    context.stage(&format!(
        "updating {} ecosystem(s){} in {} from {}",
        ecosystems.len(),
        feeds
            .iter()
            .map(|f| format!(", {}", f.name()))
            .collect::<String>(),
        store.dir.display(),
        mirror.unwrap_or(DEFAULT_SOURCE)
    ));
    let items: Vec<Item> = ecosystems
        .into_iter()
        .map(Item::Ecosystem)
        .chain(feeds.into_iter().map(Item::Feed))
        .collect();
    let origin = Origin {
        source,
        feeds_upstream: mirror.is_none(),
    };
    let quiet = args.quiet;
    let results = update(
        &store,
        &origin,
        &items,
        Limits {
            max_bytes: args.max_size,
        },
        &mut |updated| match &updated.outcome {
            Ok(Outcome::Fetched { bytes, records }) if !quiet => println!(
                "{}: fetched {records} records ({bytes} bytes) from {}",
                updated.name, updated.location
            ),
            Ok(Outcome::Unchanged) if !quiet => {
                println!("{}: unchanged ({})", updated.name, updated.location)
            }
            Ok(_) => {}
            Err(error) => eprintln!(
                "{}",
                crate::text::escape_controls(&format!("{}: FAILED: {error}", updated.name))
            ),
        },
    )?;
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.name.as_str())
        .collect();
    if !failed.is_empty() {
        anyhow::bail!(
            "{} of {} could not be updated: {} (each kept what it had)",
            failed.len(),
            results.len(),
            failed.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_status(context: &Context, args: &DbStatusArgs) -> anyhow::Result<ExitCode> {
    let store = store_of(context, &args.db);
    let manifest = store.manifest()?;
    if manifest.ecosystems.is_empty() {
        eprintln!(
            "{}: no vulnerability database (run `docker vouch db update`)",
            store.dir.display()
        );
        return Ok(ExitCode::from(EXIT_STALE));
    }
    let now = time::OffsetDateTime::now_utc();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut stale = Vec::new();
    let feeds = manifest
        .feeds
        .iter()
        .map(|(name, fetched)| (format!("{name} (feed)"), fetched));
    for (name, fetched) in manifest
        .ecosystems
        .iter()
        .map(|(name, fetched)| (name.clone(), fetched))
        .chain(feeds)
    {
        let checked = age_seconds(&fetched.checked, now);
        let too_old = match (args.max_age, checked) {
            (Some(max), Some(age)) => age > max.as_secs() as i64,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if too_old {
            stale.push(name.clone());
        }
        let ago = |age: Option<i64>| {
            age.map(|s| format!("{} ago", describe_age(s)))
                .unwrap_or_else(|| "unknown".to_string())
        };
        rows.push(vec![
            name,
            ago(checked),
            ago(age_seconds(&fetched.fetched, now)),
            fetched.records.to_string(),
            describe_size(fetched.bytes),
            fetched.from.clone(),
        ]);
    }
    let mut out = Vec::new();
    writeln_dir(&mut out, &store)?;
    write_columns(
        &mut out,
        &["DATA", "CHECKED", "FETCHED", "RECORDS", "SIZE", "FROM"],
        &rows,
    )?;
    crate::fsio::write_result(None, &out)?;
    if !stale.is_empty() {
        eprintln!(
            "older than --max-age: {}; run `docker vouch db update`",
            stale.join(", ")
        );
        return Ok(ExitCode::from(EXIT_STALE));
    }
    Ok(ExitCode::SUCCESS)
}

/// A size in bytes, in the unit a person reads at a glance.
fn describe_size(bytes: u64) -> String {
    match bytes {
        b if b < 10_000 => format!("{b} B"),
        b if b < 10_000_000 => format!("{} kB", b / 1000),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

fn writeln_dir(out: &mut Vec<u8>, store: &Store) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(out, "Database: {}", store.dir.display())?;
    writeln!(out)
}
