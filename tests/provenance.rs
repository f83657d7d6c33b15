//! Where each package came from: the instruction that made its layer, read from the history the
//! engine's own builder wrote (empty-layer entries such as ENV skipped), in the SBOM and the table.

mod support;

use support::*;

#[test]
fn each_component_names_the_instruction_that_made_its_layer() {
    let base = debian_image();
    let tag = format!("vouch-test/provenance:{}", std::process::id());
    let dockerfile = format!(
        "FROM {base}\n\
         ENV APP_HOME=/srv/app\n\
         RUN mkdir -p /srv/app/node_modules/left-pad && printf '{{\"name\":\"left-pad\",\"version\":\"1.3.0\"}}' > /srv/app/node_modules/left-pad/package.json\n\
         LABEL team=platform\n\
         COPY METADATA /usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA\n"
    );
    build_image(
        &tag,
        &dockerfile,
        &[(
            "METADATA",
            b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n" as &[u8],
        )],
    );
    let (sbom, _) = sbom_of_image(&tag);
    let created_by = |name: &str| -> Option<String> {
        let component = sbom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in the SBOM"));
        component_property(component, "vouch:createdBy")
    };
    // The engine's history says `/bin/sh -c mkdir ...`; the SBOM says it as the Dockerfile did.
    assert_eq!(
        created_by("left-pad").as_deref(),
        Some("RUN mkdir -p /srv/app/node_modules/left-pad && printf '{\"name\":\"left-pad\",\"version\":\"1.3.0\"}' > /srv/app/node_modules/left-pad/package.json")
    );
    let copied = created_by("six").expect("the COPY layer's instruction");
    assert!(
        copied.starts_with("COPY ")
            && copied.ends_with("/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"),
        "{copied}"
    );
    // The imported base layer has a history entry without an instruction: nothing is made up.
    assert_eq!(created_by("bash"), None);

    let out = run_vouch(&std::env::temp_dir(), &["sbom", "--format", "table", &tag]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with("left-pad "))
        .unwrap_or_else(|| panic!("a left-pad row in\n{table}"));
    assert!(
        row.contains("RUN mkdir -p /srv/app/node_modules/left-pad"),
        "{row}"
    );
    assert!(table
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("Image:")));
    assert!(table.contains("CREATED BY"), "{table}");
    docker(&["rmi", "-f", &tag]);
}
