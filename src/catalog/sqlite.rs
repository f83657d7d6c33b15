//! SQLite databases an image carries (rpm's `rpmdb.sqlite`, Nix's `db.sqlite`), opened from the
//! bytes the layer pass kept: in memory, read-only and defensive. The image's author wrote the
//! database, so its schema is not trusted (no views, no triggers, no functions it names), and every
//! read is bounded in time and row size.

use rusqlite::{Connection, MAIN_DB};

/// How long a database may keep SQLite busy (a real one is read in milliseconds).
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
/// The largest value one row may hold.
const MAX_VALUE_BYTES: i32 = 64 * 1024 * 1024;

/// Opens `bytes` as a database that only answers queries, within [`DEADLINE`].
pub fn open_untrusted(bytes: &[u8]) -> Result<Connection, String> {
    use rusqlite::config::DbConfig;
    use rusqlite::limits::Limit;
    if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".into());
    }
    // rpm and Nix keep their databases in WAL mode; an in-memory copy must say rollback-journal mode
    // (file format bytes 18 and 19) or SQLite refuses to open it.
    let mut copy = bytes.to_vec();
    copy[18] = 1;
    copy[19] = 1;
    let text = |e: rusqlite::Error| e.to_string();
    let mut connection = Connection::open_in_memory().map_err(text)?;
    connection
        .deserialize_read_exact(MAIN_DB, &copy[..], copy.len(), true)
        .map_err(text)?;
    for (setting, on) in [
        (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false),
        (DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false),
    ] {
        connection.set_db_config(setting, on).map_err(text)?;
    }
    connection
        .pragma_update(None, "query_only", true)
        .map_err(text)?;
    connection
        .set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        .map_err(text)?;
    let started = std::time::Instant::now();
    connection.progress_handler(10_000, Some(move || started.elapsed() > DEADLINE));
    Ok(connection)
}

/// `table` must be a real table of the database (not a view or a virtual table, whose reads the
/// schema would decide).
pub fn require_table(connection: &Connection, table: &str) -> Result<(), String> {
    let (kind, sql): (String, Option<String>) = connection
        .query_row(
            "SELECT type, sql FROM sqlite_master WHERE name = ?1 COLLATE NOCASE",
            [table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => format!("it has no {table} table"),
            other => other.to_string(),
        })?;
    let virtual_table = sql.as_deref().is_some_and(|sql| {
        sql.trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL")
    });
    if virtual_table {
        return Err(format!("{table} is a virtual table, not a table"));
    }
    if kind != "table" {
        return Err(format!("{table} is a {kind}, not a table"));
    }
    Ok(())
}

/// A read's error, said as the deadline when that is what stopped it.
pub fn read_error(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            format!("reading it took over {} s", DEADLINE.as_secs())
        }
        other => other.to_string(),
    }
}
