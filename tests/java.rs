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

/// Runs the JDK's `jar` tool.
fn jar_tool(args: &[&str]) {
    let out = Command::new("jar")
        .args(args)
        .output()
        .expect("the JDK's jar tool runs");
    assert!(
        out.status.success(),
        "jar {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    jar_tool(&[
        "cf",
        root.join("srv/shop.war").to_str().unwrap(),
        "-C",
        war_src.to_str().unwrap(),
        ".",
    ]);
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

/// Jars made by the JDK's `jar` tool (every entry deflated, each followed by a data descriptor),
/// 96 of them, each with a first entry of incompressible bytes one byte longer than the last, so
/// that the descriptor after it falls at every position around the end of the first 4 KiB the
/// layer pass hands the Java probe (and so at its read buffer's boundary). Every jar is read whole:
/// a descriptor whose signature straddled the buffer's end once made the walk stop after that
/// entry, silently, and the jar lost the package its `pom.properties` (the last entry) names.
#[test]
fn a_jar_is_read_whole_wherever_its_descriptors_fall() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("srv")).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    for k in 0..96 {
        let src = dir.path().join(format!("src{k}"));
        let pad = src.join("a/pad.bin");
        std::fs::create_dir_all(pad.parent().unwrap()).unwrap();
        std::fs::write(pad, noise(3800 + k)).unwrap();
        let pom = src.join("META-INF/maven/org.example/offsets/pom.properties");
        std::fs::create_dir_all(pom.parent().unwrap()).unwrap();
        std::fs::write(
            pom,
            "groupId=org.example\nartifactId=offsets\nversion=4.2.0\n",
        )
        .unwrap();
        let (jar, src) = (root.join(format!("srv/{k:03}.jar")), src.to_str().unwrap());
        jar_tool(&[
            "cf",
            jar.to_str().unwrap(),
            "-C",
            src,
            "a",
            "-C",
            src,
            "META-INF/maven",
        ]);
    }
    // The precondition: data descriptors, the pom.properties last, and a descriptor signature
    // across byte 4096 in some jar.
    let mut straddles = 0;
    for k in 0..96 {
        let bytes = std::fs::read(root.join(format!("srv/{k:03}.jar"))).unwrap();
        assert!(bytes.windows(4).any(|w| w == b"PK\x07\x08"));
        let last = bytes.windows(4).rposition(|w| w == b"PK\x03\x04").unwrap();
        assert!(
            bytes[last + 30..].starts_with(b"META-INF/maven/org.example/offsets/pom.properties")
        );
        straddles +=
            usize::from((4093..4096).any(|at| bytes.get(at..at + 4) == Some(&b"PK\x07\x08"[..])));
    }
    assert!(straddles > 0, "no jar has a descriptor across byte 4096");

    let tag = format!("vouch-test/java-offsets:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    assert!(!warnings.contains(".jar"), "{warnings}");
    let found: BTreeSet<String> = maven_packages(&sbom)
        .into_iter()
        .filter(|p| {
            (p.0.as_str(), p.1.as_str(), p.2.as_str()) == ("org.example", "offsets", "4.2.0")
        })
        .map(|p| p.3)
        .collect();
    let missing: Vec<String> = (0..96)
        .map(|k| format!("/srv/{k:03}.jar"))
        .filter(|path| !found.contains(path))
        .collect();
    assert!(missing.is_empty(), "jars read short: {missing:?}");
}

/// Debian's Java packages as apt installs them: each jar in `/usr/share/java` is also reached through
/// a versioned link beside it and the links of `/usr/share/maven-repo`. Each jar is one component,
/// listing the other paths (every link that leads to it, as the filesystem resolves them), and
/// saying which Debian package installed it.
#[test]
fn a_jar_reached_by_several_paths_is_one_component_listing_them() {
    require_engine();
    let root = debian_root_with(
        "debian-java",
        "libcommons-lang3-java,libslf4j-java,ruby-rack",
    );
    let real_root = root.canonicalize().unwrap();
    // Every link under /usr/share, by the file it leads to (inside the root).
    let mut links: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![root.join("usr/share")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                if let Ok(target) = path.canonicalize() {
                    if let Ok(inside) = target.strip_prefix(&real_root) {
                        let link = path.strip_prefix(&root).unwrap();
                        links
                            .entry(format!("/{}", inside.display()))
                            .or_default()
                            .insert(format!("/{}", link.display()));
                    }
                }
            } else if meta.is_dir() {
                pending.push(path);
            }
        }
    }
    let tag = format!("vouch-test/debian-java:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let mut checked = 0;
    for component in sbom["components"].as_array().unwrap() {
        if !component["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:maven/"))
        {
            continue;
        }
        let values = |name: &str| -> Vec<String> {
            component["properties"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["name"] == name)
                .map(|p| p["value"].as_str().unwrap().to_string())
                .collect()
        };
        let path = values("vouch:path").remove(0);
        let expected: Vec<String> = links.get(&path).into_iter().flatten().cloned().collect();
        assert!(!expected.is_empty(), "{path}: Debian links every jar");
        assert_eq!(values("vouch:alsoAt"), expected, "{path}");
        let owner = values("vouch:ownedBy");
        assert!(
            owner.len() == 1 && owner[0].starts_with("pkg:deb/debian/lib"),
            "{path}: {owner:?}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} jars checked");
}

/// An archive named with a classifier after its artifactId (`myapp-all.jar`, `-linux-x86_64.jar`),
/// as the shade and assembly plugins name them, is the artifact its pom.properties names: one
/// package, not a second one made up from the file name.
#[test]
fn an_artifact_with_a_classifier_in_its_file_name_is_one_package() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let pom = src.join("META-INF/maven/org.example/myapp/pom.properties");
    std::fs::create_dir_all(pom.parent().unwrap()).unwrap();
    std::fs::write(
        pom,
        "groupId=org.example\nartifactId=myapp\nversion=2.0.1\n",
    )
    .unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("opt/app")).unwrap();
    let jar = root.join("opt/app/myapp-all.jar");
    jar_tool(&[
        "cf",
        jar.to_str().unwrap(),
        "-C",
        src.to_str().unwrap(),
        "META-INF/maven",
    ]);
    let tag = format!("vouch-test/java-classifier:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let found: Vec<(String, String, String, String)> = maven_packages(&sbom);
    assert_eq!(
        found,
        [(
            "org.example".to_string(),
            "myapp".to_string(),
            "2.0.1".to_string(),
            "/opt/app/myapp-all.jar".to_string()
        )]
    );
}

/// An archive whose own metadata comes after an archive nested in it (its manifest first, then
/// `WEB-INF/lib/inner.jar`, then its own pom.properties, as `jar` writes them in that order) is
/// cataloged once: the outer archive's packages were listed twice.
#[test]
fn an_archive_interleaved_with_its_nested_ones_is_cataloged_once() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let inner_src = dir.path().join("inner");
    let inner_pom = inner_src.join("META-INF/maven/org.example/inner/pom.properties");
    std::fs::create_dir_all(inner_pom.parent().unwrap()).unwrap();
    std::fs::write(
        inner_pom,
        "groupId=org.example\nartifactId=inner\nversion=1.0\n",
    )
    .unwrap();
    let src = dir.path().join("war");
    std::fs::create_dir_all(src.join("WEB-INF/lib")).unwrap();
    let inner = src.join("WEB-INF/lib/inner.jar");
    jar_tool(&[
        "cf",
        inner.to_str().unwrap(),
        "-C",
        inner_src.to_str().unwrap(),
        "META-INF/maven",
    ]);
    let pom = src.join("META-INF/maven/org.example/shop/pom.properties");
    std::fs::create_dir_all(pom.parent().unwrap()).unwrap();
    std::fs::write(pom, "groupId=org.example\nartifactId=shop\nversion=3.1\n").unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("srv")).unwrap();
    let war = root.join("srv/shop.war");
    let src = src.to_str().unwrap();
    jar_tool(&[
        "cf",
        war.to_str().unwrap(),
        "-C",
        src,
        "WEB-INF",
        "-C",
        src,
        "META-INF/maven",
    ]);
    let tag = format!("vouch-test/java-interleaved:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let mut found: Vec<(String, String)> = maven_packages(&sbom)
        .into_iter()
        .map(|p| (p.1, p.3))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "inner".to_string(),
                "/srv/shop.war!/WEB-INF/lib/inner.jar".to_string()
            ),
            ("shop".to_string(), "/srv/shop.war".to_string()),
        ]
    );
}

/// Makes `jar` with the JDK's `jar` tool from a manifest's main section and `dir`'s `content`.
fn jar_with_manifest(jar: &Path, manifest: &str, dir: &Path, content: &str) {
    std::fs::create_dir_all(jar.parent().unwrap()).unwrap();
    let manifest_file = jar.with_extension("mf");
    std::fs::write(&manifest_file, manifest).unwrap();
    jar_tool(&[
        "cfm",
        jar.to_str().unwrap(),
        manifest_file.to_str().unwrap(),
        "-C",
        dir.to_str().unwrap(),
        content,
    ]);
    std::fs::remove_file(manifest_file).unwrap();
}

/// Reads one `key=value` of a Java properties file.
fn property(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in {text}"))
        .trim()
        .to_string()
}

/// Three archives whose names are not in a pom.properties, each named as its own tool names it:
/// Debian's real commons-lang3 jar with its pom.properties removed, staged as sbt and Play stage
/// jars (`GROUP.ARTIFACT-VERSION.jar`), is named from its pom.xml (checked against the
/// pom.properties that was removed); a Jenkins plugin installed as `git.jpi` (no version in the
/// file name) is named from the manifest fields the Jenkins plugin build tools write; a New Relic
/// agent's instrumentation module (`Weave-Classes`) is not reported as the library it instruments.
#[test]
fn sbt_jars_jenkins_plugins_and_agent_modules_are_named_as_their_tools_name_them() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let real = package_jars()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("commons-lang3"))
        .expect("Debian's commons-lang3 jar");
    let pom_properties = "META-INF/maven/org.apache.commons/commons-lang3/pom.properties";
    let unzip = Command::new("unzip")
        .args(["-p", real.to_str().unwrap(), pom_properties])
        .output()
        .unwrap();
    let said = String::from_utf8(unzip.stdout).unwrap();
    let expected = (
        property(&said, "groupId"),
        property(&said, "artifactId"),
        property(&said, "version"),
    );
    std::fs::create_dir_all(root.join("opt/play/lib")).unwrap();
    let staged = root.join(format!(
        "opt/play/lib/{}.{}-{}.jar",
        expected.0, expected.1, expected.2
    ));
    std::fs::copy(&real, &staged).unwrap();
    let zip = Command::new("zip")
        .args(["-q", "-d", staged.to_str().unwrap(), pom_properties])
        .output()
        .unwrap();
    assert!(
        zip.status.success(),
        "{}",
        String::from_utf8_lossy(&zip.stderr)
    );

    // A Jenkins plugin as the plugin build writes its manifest, installed under its short name.
    let classes = dir.path().join("classes");
    std::fs::create_dir_all(classes.join("WEB-INF")).unwrap();
    std::fs::write(classes.join("WEB-INF/web.xml"), "<web-app/>").unwrap();
    jar_with_manifest(
        &root.join("usr/share/jenkins/ref/plugins/git.jpi"),
        "Group-Id: org.jenkins-ci.plugins\nShort-Name: git\nLong-Name: Jenkins Git plugin\n\
         Extension-Name: git\nPlugin-Version: 4.11.3 (private-01/02/2022 10:00-jenkins)\n\
         Jenkins-Version: 2.289.1\nImplementation-Version: 4.11.3\nUrl: https://github.com/jenkinsci/git-plugin\n",
        &classes,
        "WEB-INF",
    );
    // A New Relic agent: its own manifest, and an instrumentation module naming Spring.
    let agent = dir.path().join("agent");
    jar_with_manifest(
        &agent.join("instrumentation/spring-4.3.0-1.0.jar"),
        "Implementation-Title: com.newrelic.instrumentation.spring-4.3.0\nImplementation-Version: 1.0\n\
         Implementation-Vendor-Id: com.newrelic\nWeave-Classes: org.springframework.web.servlet.DispatcherServlet\n",
        &classes,
        "WEB-INF",
    );
    jar_with_manifest(
        &root.join("opt/newrelic/newrelic.jar"),
        "Implementation-Title: New Relic Java Agent\nImplementation-Version: 8.9.1\n\
         Implementation-Vendor-Id: com.newrelic.agent.java\nPremain-Class: com.newrelic.bootstrap.BootstrapAgent\n",
        &agent,
        "instrumentation",
    );

    let tag = format!("vouch-test/java-named-by-tools:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let mut found = maven_packages(&sbom);
    found.sort();
    let row = |g: &str, a: &str, v: &str, at: &str| {
        (g.to_string(), a.to_string(), v.to_string(), at.to_string())
    };
    let mut wanted = [
        row(
            &expected.0,
            &expected.1,
            &expected.2,
            &format!("/{}", staged.strip_prefix(&root).unwrap().display()),
        ),
        row(
            "com.newrelic.agent.java",
            "newrelic",
            "8.9.1",
            "/opt/newrelic/newrelic.jar",
        ),
        row(
            "org.jenkins-ci.plugins",
            "git",
            "4.11.3",
            "/usr/share/jenkins/ref/plugins/git.jpi",
        ),
    ];
    wanted.sort();
    assert_eq!(found, wanted);
    let jenkins = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "git")
        .unwrap();
    assert_eq!(
        jenkins["purl"],
        "pkg:maven/org.jenkins-ci.plugins/git@4.11.3"
    );
    assert!(
        jenkins["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "vouch:java:kind" && p["value"] == "jenkins-plugin"),
        "{jenkins}"
    );
}

/// A Java runtime installed from a tarball (as the official eclipse-temurin and amazoncorretto
/// images place one at /opt/java/openjdk) is a component of its own, from its `release` file: here
/// the real one of this machine's JDK, whose version must be the one `java -version` prints. The
/// same file where Debian's package installed it is that package's, and is not reported again.
#[test]
fn a_tarball_java_runtime_is_found_by_its_release_file() {
    require_engine();
    let jdk = std::fs::canonicalize("/usr/lib/jvm/java-17-openjdk-amd64")
        .expect("Debian's openjdk-17 (make test's deps.sh installs openjdk-17-jdk-headless)");
    let release = std::fs::read(jdk.join("release")).unwrap();
    let printed = Command::new("java").arg("-version").output().unwrap();
    let printed = String::from_utf8_lossy(&printed.stderr).into_owned();
    let version = printed
        .split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("a quoted version in {printed:?}"))
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let put = |path: &str, bytes: &[u8]| {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    };
    put("etc/os-release", OS_RELEASE.as_bytes());
    put("opt/java/openjdk/release", &release);
    put("usr/lib/jvm/java-17-openjdk-amd64/release", &release);
    put(
        "var/lib/dpkg/status",
        dpkg_paragraph("openjdk-17-jre-headless", "17.0.15+6-1~deb12u1").as_bytes(),
    );
    put(
        "var/lib/dpkg/info/openjdk-17-jre-headless:amd64.list",
        b"/usr/lib/jvm/java-17-openjdk-amd64\n/usr/lib/jvm/java-17-openjdk-amd64/release\n",
    );
    // Not a runtime: a file named release without JAVA_VERSION.
    put("srv/app/release", b"RELEASE=3\n");
    let tag = format!("vouch-test/jvm:{}", std::process::id());
    import_dir(root, &tag);
    let (sbom, _) = sbom_of_image(&tag);
    docker(&["rmi", "-f", &tag]);
    let runtimes: Vec<_> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| component_property(c, "vouch:cataloger").as_deref() == Some("java-runtime"))
        .collect();
    assert_eq!(runtimes.len(), 1, "{runtimes:#?}");
    let runtime = runtimes[0];
    assert_eq!(runtime["name"], "openjdk");
    assert_eq!(
        runtime["version"].as_str(),
        Some(version.as_str()),
        "as java -version prints it"
    );
    assert_eq!(
        runtime["purl"].as_str(),
        Some(format!("pkg:generic/oracle/openjdk@{version}").as_str())
    );
    assert_eq!(
        runtime["cpe"].as_str(),
        Some(format!("cpe:2.3:a:oracle:openjdk:{version}:*:*:*:*:*:*:*").as_str())
    );
    let property = |name: &str| component_property(runtime, name);
    assert_eq!(
        property("vouch:path").as_deref(),
        Some("/opt/java/openjdk/release")
    );
    assert_eq!(
        property("vouch:java:implementor").as_deref(),
        Some("Debian")
    );
    assert!(property("vouch:java:runtimeVersion").is_some_and(|v| v.starts_with(&version)));
}
