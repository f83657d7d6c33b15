//! `docker vouch db update` and `db status` against a loopback HTTP server that serves osv.dev's
//! bucket layout (`<ecosystem>/all.zip`, made by Python's zipfile from records in each ecosystem's
//! published shape), and against a mirror directory: the first fetch, a 304, a changed file, a
//! truncated download, a corrupt zip, an HTML page, a zip of another ecosystem, a redirect to a host
//! nobody named, and a server that disappears, each leaving the previous database as it was. Then
//! `scan` reads the local database when no `--vuln-db` is given, says so, and warns when it is old; and
//! `verify --rejudge` judges an attested image (a `docker save` archive with local sets, and an image in
//! the test registry with sets attached there) again when a new advisory is published.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::http::{Mirror, Serve};
use support::osv::{
    all_zip, critical_requests_advisory, debian_record, epss_scores, ghsa_record, kev_catalog,
    requests_advisory,
};
use support::*;

fn jinja_advisory() -> (&'static str, Value) {
    (
        "GHSA-h5c8-rqwp-cp95",
        ghsa_record(
            "GHSA-h5c8-rqwp-cp95",
            "CVE-2024-22195",
            "jinja2",
            "3.1.3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
        ),
    )
}

fn debian_zip() -> Vec<u8> {
    all_zip(&[(
        "DEBIAN-CVE-2099-0001",
        debian_record("DEBIAN-CVE-2099-0001", "glibc", "2.36-9+deb12u99"),
    )])
}

fn db(dir: &Path, args: &[&str]) -> std::process::Output {
    vouch()
        .arg("db")
        .args(args)
        .arg("--db-dir")
        .arg(dir)
        .output()
        .expect("docker-vouch runs")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// `docker-vouch ARGS` run in `cwd` with the local database `dir`.
fn with_db(cwd: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    vouch()
        .args(args)
        .current_dir(cwd)
        .env("VOUCH_DB_DIR", dir)
        .output()
        .expect("docker-vouch runs")
}

/// The verdict `check --format json` printed, which must be valid and FAILED (exit 1).
fn failed_verdict(out: &std::process::Output) -> Value {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    validate_schema("verdict.schema.json", &out.stdout, ".json");
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["verificationResult"], "FAILED");
    verdict
}

fn kept_zip(dir: &Path, ecosystem: &str) -> Vec<u8> {
    std::fs::read(dir.join("osv").join(ecosystem).join("all.zip")).unwrap()
}

#[test]
fn updates_are_conditional_checked_and_never_lose_the_old_database() {
    let mirror = Mirror::start();
    let pypi_v1 = all_zip(&[requests_advisory()]);
    mirror.serve("/PyPI/all.zip", Serve::File(pypi_v1.clone()));
    mirror.serve("/Debian/all.zip", Serve::File(debian_zip()));
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("db");
    let update = |extra: &[&str]| {
        let mut args = vec!["update", "--source", &mirror.base, "--ecosystems"];
        args.push("PyPI,Debian");
        args.extend_from_slice(extra);
        db(&dir, &args)
    };

    // First fetch: both ecosystems, their records counted, the manifest says where from.
    let out = update(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("PyPI: fetched 1 records"), "{text}");
    assert!(text.contains("Debian: fetched 1 records"), "{text}");
    assert_eq!(kept_zip(&dir, "PyPI"), pypi_v1);
    let first = manifest(&dir);
    assert_eq!(first["ecosystems"]["PyPI"]["records"], 1);
    assert_eq!(
        first["ecosystems"]["PyPI"]["digest"],
        sha256(&pypi_v1).as_str()
    );
    assert!(first["ecosystems"]["PyPI"]["etag"].is_string());

    // The server's list of ecosystems (osv.dev's ecosystems.txt) is asked for first: a name it
    // does not list is refused by name; one it does goes ahead.
    mirror.serve("/ecosystems.txt", Serve::File(b"Debian\nPyPI\n".to_vec()));
    let out = update(&["--ecosystems", "Hackage"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"Hackage\" is not among the ecosystems"),
        "{}",
        stderr(&out)
    );

    // Unchanged: a conditional request each, answered 304.
    let before = mirror.requests().len();
    let out = update(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("PyPI: unchanged"), "{}", stdout(&out));
    // (Besides the list of ecosystems, asked for first.)
    let asked: Vec<_> = mirror.requests()[before..]
        .iter()
        .filter(|r| r.path.ends_with("/all.zip"))
        .cloned()
        .collect();
    assert_eq!(asked.len(), 2);
    assert!(
        asked
            .iter()
            .all(|r| r.headers.contains_key("if-none-match")),
        "{asked:?}"
    );

    // A changed file: fetched again, the other left alone.
    let pypi_v2 = all_zip(&[requests_advisory(), jinja_advisory()]);
    mirror.serve("/PyPI/all.zip", Serve::File(pypi_v2.clone()));
    let out = update(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("PyPI: fetched 2 records"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("Debian: unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(kept_zip(&dir, "PyPI"), pypi_v2);
    let good = manifest(&dir);

    // Each bad answer fails that ecosystem (exit 3, the reason named) and keeps what it had.
    let pypi_v3 = all_zip(&[
        requests_advisory(),
        jinja_advisory(),
        (
            "GHSA-new",
            ghsa_record("GHSA-new", "CVE-2099-1", "flask", "9", ""),
        ),
    ]);
    let mut corrupt = pypi_v3.clone();
    let middle = corrupt.len() / 3;
    corrupt[middle..middle + 16].fill(0);
    let wrong_ecosystem = debian_zip();
    let elsewhere = format!(
        "{}/PyPI/all.zip",
        mirror.base.replace("127.0.0.1", "localhost")
    );
    for (serve, expected) in [
        (
            Serve::Truncated(pypi_v3.clone(), pypi_v3.len() / 2),
            "truncated",
        ),
        (Serve::File(corrupt), "the database kept what it had"),
        (Serve::Html, "HTML page"),
        (Serve::File(wrong_ecosystem), "another ecosystem"),
        (Serve::Redirect(elsewhere), "another host (localhost)"),
    ] {
        mirror.serve("/PyPI/all.zip", serve);
        let out = update(&[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{expected}: {err}");
        assert!(
            err.contains("PyPI: FAILED") && err.contains(expected),
            "{err}"
        );
        assert!(err.contains("1 of 2 could not be updated"), "{err}");
        assert_eq!(kept_zip(&dir, "PyPI"), pypi_v2, "{expected}");
        assert_eq!(
            manifest(&dir)["ecosystems"]["PyPI"]["digest"],
            good["ecosystems"]["PyPI"]["digest"]
        );
        let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.join("osv/PyPI"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(leftovers, [dir.join("osv/PyPI/all.zip")], "{expected}");
    }
    // The redirect never reached the other host.
    assert!(!mirror.requests().iter().any(|r| r
        .headers
        .get("host")
        .is_some_and(|h| h.starts_with("localhost"))));

    // A size cap, before the body is read.
    mirror.serve("/PyPI/all.zip", Serve::File(pypi_v3.clone()));
    let out = update(&["--max-size", "1K"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("over the 1024-byte limit"),
        "{}",
        stderr(&out)
    );
    assert_eq!(kept_zip(&dir, "PyPI"), pypi_v2);

    // A server that is gone: both fail, the database is as it was and still reads.
    mirror.stop();
    let out = update(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 of 2 could not be updated"),
        "{}",
        stderr(&out)
    );
    assert_eq!(kept_zip(&dir, "PyPI"), pypi_v2);
    let out = db(&dir, &["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status = stdout(&out);
    assert!(
        status.contains("PyPI") && status.contains("Debian"),
        "{status}"
    );

    // Status: too old for a one-second --max-age once a second has passed.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = db(&dir, &["status", "--max-age", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("older than --max-age: Debian, PyPI"),
        "{}",
        stderr(&out)
    );

    // No database at all: status says how to make one.
    let out = db(&work.path().join("none"), &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("docker vouch db update"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_mirror_directory_and_the_default_database_of_scan() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mirror = w.join("mirror");
    std::fs::create_dir_all(mirror.join("PyPI")).unwrap();
    std::fs::write(
        mirror.join("PyPI/all.zip"),
        all_zip(&[requests_advisory(), jinja_advisory()]),
    )
    .unwrap();
    let dir = w.join("db");
    let mirror_arg = mirror.display().to_string();
    let out = db(
        &dir,
        &["update", "--source", &mirror_arg, "--ecosystems", "PyPI"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("PyPI: fetched 2 records"),
        "{}",
        stdout(&out)
    );
    let out = db(
        &dir,
        &["update", "--source", &mirror_arg, "--ecosystems", "PyPI"],
    );
    assert!(stdout(&out).contains("PyPI: unchanged"), "{}", stdout(&out));
    // A mirror without the ecosystem: that one fails, by name.
    let out = db(
        &dir,
        &["update", "--source", &mirror_arg, "--ecosystems", "npm"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("npm: FAILED"), "{}", stderr(&out));

    // An image with requests 2.31.0 (affected) and Jinja2 3.1.3 (fixed).
    let layer = Layer::new()
        .file(
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
        )
        .file(
            "usr/lib/python3/dist-packages/Jinja2-3.1.3.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.3\n",
        );
    std::fs::write(
        w.join("img.tar"),
        TestImage::new(vec![layer.bytes()]).docker_archive("example/app:1"),
    )
    .unwrap();
    let scan = |db_dir: &Path| {
        vouch()
            .args(["scan", "docker-archive:img.tar", "--format", "json"])
            .current_dir(w)
            .env("VOUCH_DB_DIR", db_dir)
            .output()
            .unwrap()
    };
    let out = scan(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("vulnerability data: the local database in")
            && stderr(&out).contains("1 ecosystem(s), checked"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids, ["GHSA-9wx4-h78v-vm56"]);
    // The document records the snapshot it was judged with, as the manifest has it.
    validate_schema("scan.schema.json", &out.stdout, ".json");
    let kept = manifest(&dir);
    assert_eq!(
        document["sources"][0]["snapshot"],
        serde_json::json!([{
            "ecosystem": "PyPI",
            "checked": kept["ecosystems"]["PyPI"]["checked"],
            "digest": kept["ecosystems"]["PyPI"]["digest"],
            "records": 2,
        }])
    );
    // So does a verdict (the default policy judges with the local database too).
    let out = vouch()
        .args(["check", "docker-archive:img.tar", "--format", "json"])
        .current_dir(w)
        .env("VOUCH_DB_DIR", &dir)
        .output()
        .unwrap();
    validate_schema("verdict.schema.json", &out.stdout, ".json");
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        verdict["vulnerabilitySources"]["sources"][0]["snapshot"][0]["digest"],
        kept["ecosystems"]["PyPI"]["digest"]
    );

    // Last checked two days ago: a warning says so.
    let mut manifest = manifest(&dir);
    manifest["ecosystems"]["PyPI"]["checked"] = "2026-01-01T00:00:00Z".into();
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let out = scan(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: the local vulnerability database was last checked")
            && stderr(&out).contains("run `docker vouch db update`"),
        "{}",
        stderr(&out)
    );

    // The scans remembered the ecosystems of the image: `auto` updates those, not the default set.
    let seen: Value =
        serde_json::from_slice(&std::fs::read(dir.join("seen.json")).unwrap()).unwrap();
    assert_eq!(seen["ecosystems"], serde_json::json!(["PyPI"]));
    let out = db(
        &dir,
        &["update", "--source", &mirror_arg, "--ecosystems", "auto"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("PyPI: unchanged"), "{lines:?}");
    // A mirror that lists its ecosystems (osv.dev's ecosystems.txt): a name it does not list is
    // refused before anything is fetched, with the name it may mean.
    std::fs::write(mirror.join("ecosystems.txt"), "Debian\nPyPI\nnpm\n").unwrap();
    let out = db(
        &dir,
        &[
            "update",
            "--source",
            &mirror_arg,
            "--ecosystems",
            "PyPI,pypi",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("\"pypi\" is not among the ecosystems")
            && stderr(&out).contains("did you mean PyPI?"),
        "{}",
        stderr(&out)
    );

    // No database and no source: scan says where findings could come from.
    let out = scan(&w.join("none"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("docker vouch db update"),
        "{}",
        stderr(&out)
    );
}

/// `db update --kev --epss` from a loopback mirror: both feeds fetched, checked and kept; a KEV file
/// that is not JSON fails that feed and keeps the catalog it had; once fetched, an update without the
/// flags refreshes them. Then `scan` marks the finding and sorts by it, and `check` fails a `warn` rule
/// on it through `kev: deny`, the verdict naming the feeds it was judged with.
#[test]
fn known_exploited_and_epss_from_a_mirror_mark_findings_and_gate() {
    let mirror = Mirror::start();
    mirror.serve(
        "/PyPI/all.zip",
        Serve::File(all_zip(&[requests_advisory(), jinja_advisory()])),
    );
    let kev = kev_catalog(
        "2026.11.29",
        &[
            ("CVE-2024-35195", "2026-11-20", true),
            ("CVE-2021-44228", "2021-12-10", true),
        ],
    );
    mirror.serve(
        "/kev/known_exploited_vulnerabilities.json",
        Serve::File(kev.clone()),
    );
    mirror.serve(
        "/epss/epss_scores-current.csv.gz",
        Serve::File(epss_scores(
            "2026-11-30",
            &[
                ("CVE-2024-35195", "0.00043", "0.10812"),
                ("CVE-2024-22195", "0.00121", "0.47211"),
                ("CVE-2021-44228", "0.94358", "0.99957"),
            ],
        )),
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let dir = w.join("db");
    let update = |extra: &[&str]| {
        let mut args = vec!["update", "--source", &mirror.base, "--ecosystems", "PyPI"];
        args.extend_from_slice(extra);
        db(&dir, &args)
    };
    let out = update(&["--kev", "--epss"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("kev: fetched 2 records"), "{text}");
    assert!(text.contains("epss: fetched 3 records"), "{text}");
    assert_eq!(std::fs::read(dir.join("feeds/kev.json")).unwrap(), kev);
    assert_eq!(
        manifest(&dir)["feeds"]["kev"]["digest"],
        sha256(&kev).as_str()
    );
    let out = db(&dir, &["status"]);
    assert!(stdout(&out).contains("kev (feed)"), "{}", stdout(&out));

    // A KEV file that is not JSON: that feed fails, by name; the catalog kept is the one before.
    mirror.serve(
        "/kev/known_exploited_vulnerabilities.json",
        Serve::File(b"cveID,dateAdded\nCVE-2024-35195,2026-11-20\n".to_vec()),
    );
    let before = mirror.requests().len();
    let out = update(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("kev: FAILED")
            && err.contains("not CISA's Known Exploited Vulnerabilities catalog"),
        "{err}"
    );
    assert!(err.contains("could not be updated: kev"), "{err}");
    assert_eq!(std::fs::read(dir.join("feeds/kev.json")).unwrap(), kev);
    // Without the flags, the feeds fetched before were asked for again.
    let asked: Vec<String> = mirror.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        asked.iter().any(|p| p.starts_with("/kev/"))
            && asked.iter().any(|p| p.starts_with("/epss/")),
        "{asked:?}"
    );

    // The image: requests 2.31.0 (CVE-2024-35195, listed) and Jinja2 3.1.2 (CVE-2024-22195, not).
    let layer = Layer::new()
        .file(
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
        )
        .file(
            "usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\n",
        );
    std::fs::write(
        w.join("img.tar"),
        TestImage::new(vec![layer.bytes()]).docker_archive("example/app:1"),
    )
    .unwrap();
    let run = |args: &[&str]| with_db(w, &dir, args);
    let out = run(&[
        "scan",
        "docker-archive:img.tar",
        "--format",
        "json",
        "--sort",
        "epss",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 ecosystem(s), kev, epss, checked"),
        "{}",
        stderr(&out)
    );
    validate_schema("scan.schema.json", &out.stdout, ".json");
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = document["findings"].as_array().unwrap();
    // By EPSS score: Jinja2's 0.00121 before requests' 0.00043, though both are medium.
    let ids: Vec<&str> = findings.iter().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, ["GHSA-h5c8-rqwp-cp95", "GHSA-9wx4-h78v-vm56"]);
    assert_eq!(findings[1]["kev"]["date_added"], "2026-11-20");
    assert_eq!(findings[1]["kev"]["known_ransomware"], true);
    assert_eq!(findings[1]["epss"]["score"], 0.00043);
    assert!(findings[0]["kev"].is_null());
    let kinds: Vec<(&str, &str)> = document["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| Some((s["kind"].as_str()?, s["version"].as_str().unwrap_or(""))))
        .collect();
    assert_eq!(
        kinds,
        [
            ("osv", ""),
            ("kev", "2026.11.29"),
            ("epss", "2026-11-30T12:55:00Z")
        ]
    );
    let out = run(&["scan", "docker-archive:img.tar", "--sort", "kev"]);
    let table = stdout(&out);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("GHSA-")).collect();
    assert!(table.contains("EXPLOIT"), "{table}");
    assert!(
        rows.len() == 2 && rows[0].starts_with("GHSA-9wx4") && rows[0].contains("KEV, EPSS 0.00"),
        "{table}"
    );

    // A warn rule whose listed findings deny: the verdict fails on the KEV finding alone.
    std::fs::write(
        w.join("policy.yaml"),
        "version: \"1\"\nrules:\n  - id: exploited\n    action: warn\n    vulnerabilities: {max_severity: high, kev: deny}\n",
    )
    .unwrap();
    let verdict = failed_verdict(&run(&[
        "check",
        "docker-archive:img.tar",
        "--policy",
        "policy.yaml",
        "--format",
        "json",
    ]));
    let found: Vec<(&str, &str, bool)> = verdict["rules"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["evidence"]["vulnerability"].as_str().unwrap(),
                f["gating"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("vulnerabilities.kev", "GHSA-9wx4-h78v-vm56", true)]
    );
    let sources = &verdict["vulnerabilitySources"]["sources"];
    assert_eq!(sources[1]["kind"], "kev");
    assert_eq!(sources[1]["digest"], sha256(&kev).as_str());
}

/// `sbom:FILE` judges the SBOM vouch wrote of an image without the image (deleted before the scan):
/// the findings of today's database, the config rules on the configuration the SBOM recorded, the
/// file rules not applicable; an SBOM another tool wrote, or that is not one, is refused by name.
#[test]
fn a_saved_sbom_is_scanned_and_checked_without_its_image() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mirror = w.join("mirror");
    std::fs::create_dir_all(mirror.join("PyPI")).unwrap();
    std::fs::write(mirror.join("PyPI/all.zip"), all_zip(&[requests_advisory()])).unwrap();
    let dir = w.join("db");
    let out = db(
        &dir,
        &[
            "update",
            "--source",
            &mirror.display().to_string(),
            "--ecosystems",
            "PyPI",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut image = requests_image();
    image.runtime_config = serde_json::json!({
        "User": "root", "Entrypoint": ["/usr/bin/python3"], "Labels": {"org.example.team": "core"}
    });
    std::fs::write(w.join("img.tar"), image.docker_archive("example/app:1")).unwrap();
    let run = |args: &[&str]| with_db(w, &dir, args);
    let out = run(&["sbom", "docker-archive:img.tar", "-o", "app.cdx.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sbom: Value =
        serde_json::from_slice(&std::fs::read(w.join("app.cdx.json")).unwrap()).unwrap();
    std::fs::remove_file(w.join("img.tar")).unwrap();

    let out = run(&["scan", "sbom:app.cdx.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    validate_schema("scan.schema.json", &out.stdout, ".json");
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["findings"][0]["id"], "GHSA-9wx4-h78v-vm56");
    let recorded_id = image_properties(&sbom, "vouch:image:id");
    assert_eq!(document["image"]["id"], recorded_id[0].as_str());
    assert_eq!(document["image"]["reference"], "sbom:app.cdx.json");

    std::fs::write(
        w.join("policy.yaml"),
        r#"version: "1"
rules:
  - id: non-root
    action: deny
    config: {non_root_user: true}
  - id: team-label
    action: deny
    config: {required_labels: {org.example.team: "core"}}
  - id: no-setuid
    action: deny
    files: {setuid_allowed: []}
  - id: no-vulnerabilities
    action: warn
    vulnerabilities: {max_severity: low}
"#,
    )
    .unwrap();
    let verdict = failed_verdict(&run(&[
        "check",
        "sbom:app.cdx.json",
        "--policy",
        "policy.yaml",
        "--format",
        "json",
    ]));
    let statuses: Vec<(&str, &str)> = verdict["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("non-root", "failed"),
            ("team-label", "passed"),
            ("no-setuid", "not_applicable"),
            ("no-vulnerabilities", "warned"),
        ]
    );
    assert!(
        verdict["rules"][2]["note"]
            .as_str()
            .unwrap()
            .contains("judged from its SBOM"),
        "{}",
        verdict["rules"][2]
    );
    assert_eq!(verdict["image"]["id"], recorded_id[0].as_str());

    // Another tool's SBOM (no image record), a file that is not JSON, and other commands.
    std::fs::write(
        w.join("other.json"),
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"component": {"type": "container", "name": "app"}}, "components": []}"#,
    )
    .unwrap();
    std::fs::write(w.join("notes.txt"), "not an SBOM").unwrap();
    for (args, expected) in [
        (vec!["scan", "sbom:other.json"], "not an SBOM vouch wrote"),
        (vec!["check", "sbom:other.json"], "not an SBOM vouch wrote"),
        (vec!["scan", "sbom:notes.txt"], "not a JSON SBOM"),
        (vec!["scan", "sbom:"], "needs a value"),
        (
            vec!["scan", "sbom:app.cdx.json", "--sbom", "app.cdx.json"],
            "sbom:FILE is the SBOM already",
        ),
        (vec!["sbom", "sbom:app.cdx.json"], "only `scan` and `check`"),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// The image the re-judgment tests attest: requests 2.31.0 in one layer.
fn requests_image() -> TestImage {
    TestImage::new(vec![Layer::new()
        .file(
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
        )
        .bytes()])
}

/// Attests `image` (with `attest_extra`) against a mirror's PyPI records, then re-judges it with
/// `verify --rejudge` (with `verify_extra`) before and after a critical advisory is published.
fn attest_then_rejudge(w: &Path, image: &str, attest_extra: &[&str], verify_extra: &[&str]) {
    let mirror = w.join("mirror");
    std::fs::create_dir_all(mirror.join("PyPI")).unwrap();
    let publish = |records: &[(&str, Value)]| {
        std::fs::write(mirror.join("PyPI/all.zip"), all_zip(records)).unwrap();
    };
    let dir = w.join("db");
    let mirror_arg = mirror.display().to_string();
    let update = || {
        let out = db(
            &dir,
            &["update", "--source", &mirror_arg, "--ecosystems", "PyPI"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    // At attestation time: a medium advisory on requests (the default policy gates only critical
    // fixable findings) and one on Jinja2, which the image does not have.
    publish(&[requests_advisory(), jinja_advisory()]);
    update();
    let run = |args: &[&str]| {
        vouch()
            .args(args)
            .current_dir(w)
            .env("VOUCH_DB_DIR", &dir)
            .env("VOUCH_PASSWORD", "pw")
            .output()
            .unwrap()
    };
    let out = run(&["keygen"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut args = vec!["attest", image, "--key", "cosign.key"];
    args.extend_from_slice(attest_extra);
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("verdict PASSED"), "{}", stdout(&out));
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", image, "--key", "cosign.pub"];
        args.extend_from_slice(verify_extra);
        args.extend_from_slice(extra);
        run(&args)
    };
    let out = verify(&["--rejudge"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("verdict.rejudged")
            && stdout(&out).contains("1 finding(s), 0 gating, none new"),
        "{}",
        stdout(&out)
    );

    // A critical advisory with a fix is published: the same attested image no longer passes.
    publish(&[
        requests_advisory(),
        jinja_advisory(),
        critical_requests_advisory(),
    ]);
    update();
    let out = verify(&["--rejudge"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("FAIL  verdict.rejudged")
            && text.contains("1 new gating finding(s) since the attestation: GHSA-crit-ical-0001 in pkg:pypi/requests@2.31.0")
            && text.contains("fixed in 2.32.0")
            && text.contains("layer 0"),
        "{text}"
    );
    // Without --rejudge the attestations still verify: they are what they were.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Another policy than the attested one is refused by digest.
    std::fs::write(
        w.join("other.yaml"),
        "version: \"1\"\nrules:\n  - id: v\n    action: deny\n    vulnerabilities:\n      max_severity: low\n",
    )
    .unwrap();
    let out = verify(&["--rejudge", "--policy", "other.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the verdict was judged with policy sha256:"),
        "{}",
        stdout(&out)
    );
    // Vulnerability sources without --rejudge are a usage error.
    let out = verify(&["--vuln-db", "db/osv"]);
    assert_eq!(out.status.code(), Some(2));

    // The attestation renewed from itself, without reading the image: a fresh verdict (FAILED, on
    // the new finding) bound to the same signed SBOM statement, which verify then takes.
    let sbom_envelopes = || -> Vec<Vec<u8>> { glob_files(&w.join(".vouch"), "sbom.dsse.json") };
    let before = sbom_envelopes();
    let renew_with = |verify_key: &str, extra: &[&str]| {
        let mut args = vec![
            "attest",
            image,
            "--from-attestation",
            "--key",
            "cosign.key",
            "--verify-key",
            verify_key,
        ];
        args.extend_from_slice(attest_extra);
        args.extend_from_slice(extra);
        run(&args)
    };
    let renew = |extra: &[&str]| renew_with("cosign.pub", extra);
    let out = renew(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("verdict FAILED"), "{}", stdout(&out));
    assert_eq!(
        sbom_envelopes(),
        before,
        "the SBOM statement is the one signed before"
    );
    let out = verify(&["--require-pass"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("verdict.sbom-binding"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("FAILED"), "{}", stdout(&out));
    let out = verify(&["--rejudge"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 gating, none new"),
        "{}",
        stdout(&out)
    );
    // Attestations that do not verify with the key given are not renewed; nor is another policy.
    let out = run(&["keygen", "--output-key-prefix", "other"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = renew_with("other.pub", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no attestation to renew") && stderr(&out).contains("signature"),
        "{}",
        stderr(&out)
    );
    let out = renew(&["--policy", "other.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pass the attested policy"),
        "{}",
        stderr(&out)
    );
}

/// The contents of every file named `name` under `dir` (any depth), in path order.
fn glob_files(dir: &Path, name: &str) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == name) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[test]
fn an_attested_archive_is_judged_again_with_todays_data() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(
        w.join("img.tar"),
        requests_image().docker_archive("example/app:1"),
    )
    .unwrap();
    attest_then_rejudge(w, "docker-archive:img.tar", &[], &[]);
}

#[test]
fn an_image_attested_in_a_registry_is_judged_again_from_the_registry() {
    support::registry::require_registries();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut image = requests_image();
    image.architecture = support::registry::index_arch().into();
    let reference = format!(
        "{}/vouch-test/rejudge:{}",
        support::registry::open_registry(),
        std::process::id()
    );
    support::registry::push_layout(&image, w, &reference);
    let image = format!("registry:{reference}");
    // The sets are read from the registry, where attest --push attached them.
    attest_then_rejudge(w, &image, &["--push"], &[]);
}

/// `$VOUCH_DB_SOURCE` names the mirror when `--source` is not given (a CI variable set once); set
/// but empty (a CI variable left undefined), it names none: osv.dev's bucket, not an error about an
/// empty mirror. Bounded by `--max-size`, so a machine that reaches osv.dev fetches nothing big.
#[test]
fn the_mirror_can_come_from_the_environment() {
    let work = tempfile::tempdir().unwrap();
    let mirror = work.path().join("mirror/PyPI");
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(mirror.join("all.zip"), all_zip(&[requests_advisory()])).unwrap();
    let update = |source: &Path| {
        vouch()
            .args([
                "db",
                "update",
                "--ecosystems",
                "PyPI",
                "--max-size",
                "1K",
                "--db-dir",
            ])
            .arg(work.path().join("db"))
            .env("VOUCH_DB_SOURCE", source)
            .output()
            .unwrap()
    };
    let out = update(&work.path().join("mirror"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = update(Path::new(""));
    let err = stderr(&out);
    assert!(
        err.contains("osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"),
        "{err}"
    );
    assert!(!err.contains("--source"), "{err}");
}
