//! R packages as R installed them: R's own library from Debian's r-base-core and CRAN packages from
//! Debian's r-cran-* (installed into site-library by R CMD INSTALL at their build), unpacked without
//! dpkg into an image imported into the engine, compared with what R's `installed.packages()` reads
//! from the same directories.

mod support;

use std::process::Command;
use support::*;

#[test]
fn r_libraries_match_installed_packages() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack_debs(
        &["r-base-core", "r-cran-jsonlite", "r-cran-magrittr"],
        &root,
    );
    let libraries = ["usr/lib/R/library", "usr/lib/R/site-library"];
    let lib_loc = libraries
        .iter()
        .map(|l| format!("\"{}\"", root.join(l).display()))
        .collect::<Vec<_>>()
        .join(",");
    let out = Command::new("Rscript")
        .arg("-e")
        .arg(format!(
            "ip <- installed.packages(lib.loc=c({lib_loc})); write.table(ip[,c(\"Package\",\"Version\")], quote=FALSE, row.names=FALSE, col.names=FALSE)"
        ))
        .output()
        .expect("Rscript runs (make deps installs r-base-core)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        .collect();
    expected.sort();
    assert!(expected.len() >= 16, "{expected:?}");

    let tag = import_dir(&root, &format!("vouch-test/r:{}", std::process::id()));
    let (sbom, _) = sbom_of_image(&tag);
    let mut found: Vec<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:cran/"))
        .map(|(name, version, purl, _, _)| {
            assert_eq!(purl, format!("pkg:cran/{name}@{version}"));
            (name, version)
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(depends_on(&sbom, "pkg:cran/jsonlite@"), ["methods"]);
    docker(&["rmi", "-f", &tag]);
}
