//! Exploitation data beside the OSV records: CISA's Known Exploited Vulnerabilities catalog (its
//! JSON feed) and FIRST's EPSS scores (the daily `epss_scores-current.csv.gz`). `docker vouch db
//! update --kev --epss` fetches them into the local database ([`Feed::check`] is its whole-file
//! check); a scan reads them back ([`Kev::load`], [`Epss::load`], keeping only the CVEs its findings
//! name) and [`annotate`]s each finding whose id or alias is listed. The policy's `vulnerabilities`
//! rules then read `kev`, `epss_min`; `scan --sort` orders by them.
//!
//! The EPSS file is three unquoted columns (`cve,epss,percentile`) after a `#model_version:…,
//! score_date:…` comment: read line by line with a per-line cap rather than through a CSV crate,
//! because a quoted field or a fourth column is not EPSS and is refused.

use super::VulnerabilityFinding;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::Path;

/// CISA's feed.
pub const KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's daily scores, as its data page links them.
pub const EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";

/// Largest KEV catalog read (the real one is about 1.5 MB).
const MAX_KEV_BYTES: u64 = 64 * 1024 * 1024;
/// Largest EPSS file read once inflated (the real one is about 12 MB for 300,000 CVEs).
const MAX_EPSS_BYTES: u64 = 512 * 1024 * 1024;
/// Longest EPSS line (`CVE-2024-123456,0.12345,0.98765` is about 35 bytes).
const MAX_EPSS_LINE: u64 = 4096;
/// How far in the future a date may be (clock skew), in days.
const FUTURE_SLACK_DAYS: i64 = 1;

/// The exploitation feeds the database can keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feed {
    Kev,
    Epss,
}

impl Feed {
    pub const ALL: [Feed; 2] = [Feed::Kev, Feed::Epss];

    /// Its name in the manifest, in messages and in verdicts.
    pub fn name(self) -> &'static str {
        match self {
            Feed::Kev => "kev",
            Feed::Epss => "epss",
        }
    }

    pub fn from_name(name: &str) -> Option<Feed> {
        Feed::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Where it is kept in the database directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Feed::Kev => "kev.json",
            Feed::Epss => "epss.csv.gz",
        }
    }

    /// Where a mirror keeps it, under its root (beside `<ecosystem>/all.zip`).
    pub fn mirror_path(self) -> &'static str {
        match self {
            Feed::Kev => "kev/known_exploited_vulnerabilities.json",
            Feed::Epss => "epss/epss_scores-current.csv.gz",
        }
    }

    /// Where it is published, when no mirror is named.
    pub fn upstream(self) -> &'static str {
        match self {
            Feed::Kev => KEV_URL,
            Feed::Epss => EPSS_URL,
        }
    }

    /// Checks a fetched file whole before it replaces the kept one; returns its entry count.
    pub fn check(self, path: &Path, now: time::OffsetDateTime) -> Result<u64, String> {
        match self {
            Feed::Kev => Kev::load(path, None)
                .and_then(|kev| kev.check_dates(now).map(|_| kev.count as u64))
                .map_err(|e| e.detail),
            Feed::Epss => Epss::load(path, None)
                .and_then(|epss| epss.check_date(now).map(|_| epss.rows))
                .map_err(|e| e.detail),
        }
    }
}

/// Why a feed file could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {detail}")]
pub struct FeedError {
    pub path: String,
    pub detail: String,
}

/// What KEV says of one CVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevEntry {
    /// When CISA added it (`YYYY-MM-DD`).
    pub date_added: String,
    /// When federal agencies must have remediated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Whether it is known to be used in ransomware campaigns.
    pub known_ransomware: bool,
}

/// What EPSS says of one CVE.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EpssScore {
    /// The probability of exploitation in the next 30 days, 0 to 1.
    pub score: f64,
    /// Its rank among all scored CVEs, 0 to 1.
    pub percentile: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KevFile {
    catalog_version: Option<String>,
    vulnerabilities: Vec<KevFileEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KevFileEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    date_added: String,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
}

/// The KEV catalog, or the part of it a scan needs.
#[derive(Debug, Default)]
pub struct Kev {
    /// `catalogVersion`.
    pub version: Option<String>,
    /// Entries in the file.
    pub count: usize,
    /// By CVE id (upper case).
    pub entries: HashMap<String, KevEntry>,
    /// The latest `dateAdded`.
    latest: Option<time::Date>,
}

impl Kev {
    /// Reads the catalog at `path`, keeping the entries `wanted` names (all when `None`). Every
    /// entry must have a CVE id and a `YYYY-MM-DD` date added.
    pub fn load(path: &Path, wanted: Option<&HashSet<String>>) -> Result<Kev, FeedError> {
        let error = |detail: String| FeedError {
            path: path.display().to_string(),
            detail,
        };
        let bytes = crate::fsio::read_limited(path, MAX_KEV_BYTES).map_err(error)?;
        let file: KevFile = serde_json::from_slice(&bytes).map_err(|e| {
            error(format!(
                "not CISA's Known Exploited Vulnerabilities catalog (JSON with `vulnerabilities`: {e})"
            ))
        })?;
        let mut kev = Kev {
            version: file.catalog_version,
            count: file.vulnerabilities.len(),
            ..Default::default()
        };
        for entry in file.vulnerabilities {
            let id = entry.cve_id.trim().to_ascii_uppercase();
            if !is_cve(&id) {
                return Err(error(format!(
                    "{:?} is not a CVE id",
                    crate::text::excerpt(&entry.cve_id, 40)
                )));
            }
            let added = crate::clock::parse_day(&entry.date_added).ok_or_else(|| {
                error(format!(
                    "{id}: dateAdded {:?} is not a date",
                    crate::text::excerpt(&entry.date_added, 40)
                ))
            })?;
            kev.latest = kev.latest.max(Some(added));
            if wanted.is_some_and(|w| !w.contains(&id)) {
                continue;
            }
            kev.entries.insert(
                id,
                KevEntry {
                    date_added: entry.date_added,
                    due_date: entry.due_date,
                    known_ransomware: entry
                        .known_ransomware_campaign_use
                        .is_some_and(|u| u.eq_ignore_ascii_case("known")),
                },
            );
        }
        if kev.count == 0 {
            return Err(error("the catalog lists no vulnerabilities".into()));
        }
        Ok(kev)
    }

    fn check_dates(&self, now: time::OffsetDateTime) -> Result<(), FeedError> {
        match self.latest {
            Some(date) if (date - now.date()).whole_days() > FUTURE_SLACK_DAYS => Err(FeedError {
                path: String::new(),
                detail: format!("an entry was added on {date}, in the future: the source's clock or data is wrong"),
            }),
            _ => Ok(()),
        }
    }
}

/// EPSS scores, or the part of them a scan needs.
#[derive(Debug, Default)]
pub struct Epss {
    /// `model_version` from the file's first line.
    pub model: Option<String>,
    /// `score_date` from the file's first line.
    pub date: Option<String>,
    /// Rows in the file.
    pub rows: u64,
    pub scores: HashMap<String, EpssScore>,
}

impl Epss {
    /// Reads the scores at `path` (gzip or plain CSV), keeping the CVEs `wanted` names (all when
    /// `None`). Every row must be a CVE id and two numbers from 0 to 1.
    pub fn load(path: &Path, wanted: Option<&HashSet<String>>) -> Result<Epss, FeedError> {
        let shown = path.display().to_string();
        let error = |detail: String| FeedError {
            path: shown.clone(),
            detail,
        };
        let mut file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
        let mut magic = [0u8; 2];
        let gzipped = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        drop(file);
        let file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
        let reader: Box<dyn Read> = if gzipped {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let mut reader = std::io::BufReader::new(reader.take(MAX_EPSS_BYTES + 1));
        let mut epss = Epss::default();
        let mut line = Vec::new();
        let mut number = 0u64;
        let mut header = false;
        let mut total = 0u64;
        loop {
            line.clear();
            let n = (&mut reader)
                .take(MAX_EPSS_LINE)
                .read_until(b'\n', &mut line)
                .map_err(|e| error(format!("does not read as EPSS scores ({e})")))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            number += 1;
            if total > MAX_EPSS_BYTES {
                return Err(error(format!("more than {MAX_EPSS_BYTES} bytes of scores")));
            }
            if n as u64 == MAX_EPSS_LINE && line.last() != Some(&b'\n') {
                return Err(error(format!(
                    "line {number}: longer than an EPSS row can be"
                )));
            }
            let text = std::str::from_utf8(&line)
                .map_err(|_| error(format!("line {number}: not text: not EPSS scores")))?
                .trim_end_matches(['\n', '\r']);
            if let Some(comment) = text.strip_prefix('#') {
                for field in comment.split(',') {
                    match field.split_once(':') {
                        Some(("model_version", v)) => epss.model = Some(v.to_string()),
                        Some(("score_date", v)) => epss.date = Some(v.to_string()),
                        _ => {}
                    }
                }
                continue;
            }
            if !header {
                if text.trim() != "cve,epss,percentile" {
                    return Err(error(format!(
                        "line {number}: {:?} is not the EPSS header `cve,epss,percentile`",
                        crate::text::excerpt(text, 60)
                    )));
                }
                header = true;
                continue;
            }
            if text.is_empty() {
                continue;
            }
            let (id, score) = parse_row(text)
                .ok_or_else(|| error(format!("line {number}: {:?} is not an EPSS row (CVE id, score and percentile from 0 to 1)", crate::text::excerpt(text, 60))))?;
            epss.rows += 1;
            if wanted.is_none_or(|w| w.contains(id)) {
                epss.scores.insert(id.to_string(), score);
            }
        }
        if epss.rows == 0 {
            return Err(error("no EPSS scores in it".into()));
        }
        Ok(epss)
    }

    fn check_date(&self, now: time::OffsetDateTime) -> Result<(), FeedError> {
        let Some(date) = &self.date else {
            return Ok(());
        };
        let day = crate::clock::parse_day(date).ok_or_else(|| FeedError {
            path: String::new(),
            detail: format!("score_date {date:?} is not a date"),
        })?;
        if (day - now.date()).whole_days() > FUTURE_SLACK_DAYS {
            return Err(FeedError {
                path: String::new(),
                detail: format!(
                    "scored on {day}, in the future: the source's clock or data is wrong"
                ),
            });
        }
        Ok(())
    }
}

fn parse_row(text: &str) -> Option<(&str, EpssScore)> {
    let mut fields = text.split(',');
    let id = fields.next()?.trim();
    let score: f64 = fields.next()?.trim().parse().ok()?;
    let percentile: f64 = fields.next()?.trim().parse().ok()?;
    let in_range = |v: f64| (0.0..=1.0).contains(&v);
    (fields.next().is_none() && is_cve(id) && in_range(score) && in_range(percentile))
        .then_some((id, EpssScore { score, percentile }))
}

/// `CVE-YYYY-NNNN…`, upper case.
pub fn is_cve(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=12).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The CVE ids findings are known by (their id or an alias), upper case.
pub fn cve_ids(findings: &[VulnerabilityFinding]) -> HashSet<String> {
    findings
        .iter()
        .flat_map(|f| f.names())
        .map(str::to_ascii_uppercase)
        .filter(|n| is_cve(n))
        .collect()
}

/// Marks each finding KEV lists and gives it its EPSS score (the highest among its CVE names, when
/// it has several).
pub fn annotate(findings: &mut [VulnerabilityFinding], kev: Option<&Kev>, epss: Option<&Epss>) {
    for finding in findings {
        let names: Vec<String> = finding
            .names()
            .map(str::to_ascii_uppercase)
            .filter(|n| is_cve(n))
            .collect();
        if let Some(kev) = kev {
            finding.kev = names.iter().find_map(|n| kev.entries.get(n)).cloned();
        }
        if let Some(epss) = epss {
            finding.epss = names
                .iter()
                .filter_map(|n| epss.scores.get(n))
                .copied()
                .max_by(|a, b| a.score.total_cmp(&b.score));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::parse(
            "2026-12-01T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    }

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    const KEV: &str = r#"{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2026.11.30","dateReleased":"2026-11-30T17:00:00.000Z","count":2,"vulnerabilities":[
      {"cveID":"CVE-2021-44228","vendorProject":"Apache","product":"Log4j2","vulnerabilityName":"Apache Log4j2 Remote Code Execution Vulnerability","dateAdded":"2021-12-10","shortDescription":"…","requiredAction":"…","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known","notes":"","cwes":["CWE-20"]},
      {"cveID":"CVE-2024-3094","vendorProject":"XZ","product":"xz","vulnerabilityName":"XZ Utils backdoor","dateAdded":"2024-04-01","shortDescription":"…","requiredAction":"…","dueDate":"2024-04-22","knownRansomwareCampaignUse":"Unknown","notes":"","cwes":[]}]}"#;

    const EPSS: &str = "#model_version:v2025.03.14,score_date:2026-11-30T12:55:00Z\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\nCVE-2024-3094,0.84223,0.99280\nCVE-1999-0001,0.01297,0.85622\n";

    #[test]
    fn kev_is_read_and_checked() {
        let kev = Kev::load(file(KEV.as_bytes()).path(), None).unwrap();
        assert_eq!(kev.version.as_deref(), Some("2026.11.30"));
        assert_eq!(kev.count, 2);
        assert!(kev.entries["CVE-2021-44228"].known_ransomware);
        assert!(!kev.entries["CVE-2024-3094"].known_ransomware);
        assert_eq!(Feed::Kev.check(file(KEV.as_bytes()).path(), now()), Ok(2));

        let wanted: HashSet<String> = ["CVE-2024-3094".to_string()].into();
        let some = Kev::load(file(KEV.as_bytes()).path(), Some(&wanted)).unwrap();
        assert_eq!(some.entries.len(), 1);

        let err = Feed::Kev
            .check(file(b"<html>Not found</html>").path(), now())
            .unwrap_err();
        assert!(err.contains("not CISA's Known Exploited"), "{err}");
        let future = KEV.replace("2024-04-01", "2027-04-01");
        let err = Feed::Kev
            .check(file(future.as_bytes()).path(), now())
            .unwrap_err();
        assert!(err.contains("in the future"), "{err}");
        let bad_id = KEV.replace("CVE-2024-3094", "XZ-1");
        let err = Feed::Kev
            .check(file(bad_id.as_bytes()).path(), now())
            .unwrap_err();
        assert!(err.contains("not a CVE id"), "{err}");
    }

    #[test]
    fn epss_is_read_gzipped_or_plain_and_checked() {
        let epss = Epss::load(file(&gzip(EPSS)).path(), None).unwrap();
        assert_eq!(epss.rows, 3);
        assert_eq!(epss.model.as_deref(), Some("v2025.03.14"));
        assert_eq!(epss.scores["CVE-2024-3094"].score, 0.84223);
        assert_eq!(Feed::Epss.check(file(EPSS.as_bytes()).path(), now()), Ok(3));

        for (bad, why) in [
            (EPSS.replace("0.01297", "1.5"), "not an EPSS row"),
            (
                EPSS.replace("cve,epss,percentile", "id,score"),
                "EPSS header",
            ),
            (EPSS.replace("2026-11-30T", "2027-11-30T"), "in the future"),
            (
                EPSS.replace("CVE-1999-0001,", "\"CVE-1999-0001\","),
                "not an EPSS row",
            ),
            ("cve,epss,percentile\n".to_string(), "no EPSS scores"),
            ("x".repeat(5000), "longer than"),
        ] {
            let err = Feed::Epss
                .check(file(&gzip(&bad)).path(), now())
                .unwrap_err();
            assert!(err.contains(why), "{why}: {err}");
        }
    }

    #[test]
    fn findings_are_annotated_by_their_cve_names() {
        let kev = Kev::load(file(KEV.as_bytes()).path(), None).unwrap();
        let epss = Epss::load(file(EPSS.as_bytes()).path(), None).unwrap();
        let mut findings = vec![
            VulnerabilityFinding {
                id: "GHSA-jfh8-c2jp-5v3q".into(),
                aliases: vec!["cve-2021-44228".into()],
                ..Default::default()
            },
            VulnerabilityFinding {
                id: "DEBIAN-CVE-2024-0001".into(),
                aliases: vec!["CVE-2024-0001".into()],
                ..Default::default()
            },
        ];
        assert_eq!(
            cve_ids(&findings),
            ["CVE-2021-44228", "CVE-2024-0001"].map(String::from).into()
        );
        annotate(&mut findings, Some(&kev), Some(&epss));
        assert_eq!(findings[0].kev.as_ref().unwrap().date_added, "2021-12-10");
        assert_eq!(findings[0].epss.unwrap().score, 0.94358);
        assert!(findings[1].kev.is_none() && findings[1].epss.is_none());
        assert!(!is_cve("CVE-21-1") && !is_cve("cve-2021-1234") && is_cve("CVE-2021-123456"));
    }
}
