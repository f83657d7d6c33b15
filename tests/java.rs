//! The Java cataloger on a real image: the jars of Debian's Java packages, checked against Debian's
//! own Maven repository layout (`/usr/share/maven-repo/GROUP/ARTIFACT/VERSION/*.jar` links to them),
//! a WAR made by the JDK's `jar` tool nesting one of them, and a truncated jar.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const PACKAGES: &[&str] = &["libcommons-lang3-java", "libslf4j-java"];

/// Regular jar files the Debian packages install.
fn package_jars() -> Vec<PathBuf> {
    let out = Command::new("dpkg")
        .arg("-L")
        .args(PACKAGES)
        .output()
        .expect("dpkg runs");
    assert!(
        out.status.success(),
        "make deps installs {PACKAGES:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.extension().is_some_and(|e| e == "jar") && p.is_file() && !p.is_symlink())
        .collect()
}

/// Real jar file name → every (group, artifact, version) Debian's maven-repo files it under.
fn maven_repo_aliases() -> BTreeMap<String, BTreeSet<(String, String, String)>> {
    let mut aliases: BTreeMap<String, BTreeSet<(String, String, String)>> = BTreeMap::new();
    let root = Path::new("/usr/share/maven-repo");
    let out = Command::new("find")
        .arg(root)
        .args(["-name", "*.jar"])
        .output()
        .unwrap();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let link = Path::new(line);
        let Ok(target) = std::fs::canonicalize(link) else {
            continue;
        };
        let parts: Vec<&str> = link
            .strip_prefix(root)
            .unwrap()
            .iter()
            .map(|s| s.to_str().unwrap())
            .collect();
        if parts.len() < 4 {
            continue;
        }
        let version = parts[parts.len() - 2];
        let artifact = parts[parts.len() - 3];
        let group = parts[..parts.len() - 3].join(".");
        aliases
            .entry(target.file_name().unwrap().to_string_lossy().into_owned())
            .or_default()
            .insert((group, artifact.to_string(), version.to_string()));
    }
    aliases
}

/// (group, artifact, version, archive location) of every maven component.
fn maven_packages(sbom: &serde_json::Value) -> Vec<(String, String, String, String)> {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:maven/"))
        })
        .map(|c| {
            let prop = |n: &str| {
                c["properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["name"] == n)
                    .map(|p| p["value"].as_str().unwrap().to_string())
                    .unwrap_or_default()
            };
            (
                prop("vouch:java:groupId"),
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap_or_default().to_string(),
                prop("vouch:java:archive"),
            )
        })
        .collect()
}

#[test]
fn debian_jars_match_the_maven_repo_and_nested_wars_are_read() {
    require_engine();
    let jars = package_jars();
    assert!(jars.len() >= 2, "{jars:?}");
    let aliases = maven_repo_aliases();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let lib = root.join("usr/share/java");
    std::fs::create_dir_all(&lib).unwrap();
    for jar in &jars {
        std::fs::copy(jar, lib.join(jar.file_name().unwrap())).unwrap();
    }
    // A WAR made by the JDK's jar tool (deflated entries with data descriptors), nesting a jar.
    let war_src = dir.path().join("war");
    std::fs::create_dir_all(war_src.join("WEB-INF/lib")).unwrap();
    let nested = jars
        .iter()
        .find(|j| j.to_string_lossy().contains("commons-lang3"))
        .expect("commons-lang3 jar");
    std::fs::copy(nested, war_src.join("WEB-INF/lib/commons-lang3.jar")).unwrap();
    std::fs::write(war_src.join("index.html"), "<html></html>").unwrap();
    std::fs::create_dir_all(root.join("srv")).unwrap();
    let out = Command::new("jar")
        .args([
            "cf",
            root.join("srv/shop.war").to_str().unwrap(),
            "-C",
            war_src.to_str().unwrap(),
            ".",
        ])
        .output()
        .expect("the JDK's jar tool runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A jar cut in half: a warning, the rest still cataloged.
    let bytes = std::fs::read(nested).unwrap();
    std::fs::write(root.join("srv/broken.jar"), &bytes[..bytes.len() / 2]).unwrap();

    let tag = format!("vouch-test/java:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("/srv/broken.jar: archive: damaged zip stream"),
        "{}",
        warnings
    );
    let found = maven_packages(&sbom);

    let mut checked = 0;
    for jar in &jars {
        let name = jar.file_name().unwrap().to_string_lossy().into_owned();
        let Some(known) = aliases.get(&name) else {
            continue;
        };
        let location = format!("/usr/share/java/{name}");
        let here: BTreeSet<(String, String, String)> = found
            .iter()
            .filter(|p| p.3 == location)
            .map(|p| (p.0.clone(), p.1.clone(), p.2.clone()))
            .collect();
        assert!(
            !here.is_disjoint(known),
            "{name}: found {here:?}, Debian's maven-repo says {known:?}"
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "jars checked against the maven-repo: {checked}"
    );

    let nested_location = "/srv/shop.war!/WEB-INF/lib/commons-lang3.jar";
    let in_war: Vec<_> = found.iter().filter(|p| p.3 == nested_location).collect();
    assert_eq!(in_war.len(), 1, "{found:?}");
    assert_eq!(
        (in_war[0].0.as_str(), in_war[0].1.as_str()),
        ("org.apache.commons", "commons-lang3")
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}
