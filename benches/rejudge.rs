//! Re-judging signed SBOMs without their images (not a test): 1,000 attestation sets, each an SBOM
//! of 500 components across Debian, PyPI, npm, Go and Maven, signed as `attest` signs them, judged
//! again against the 200,000-record all.zip of `bench/osv_fixture.py` as `verify --rejudge` and
//! `serve --rejudge` judge them: the database indexed once, then each set verified (signatures,
//! subjects, binding) and its SBOM matched and evaluated by the default policy's vulnerability
//! rules, as many sets at a time as there are cores (serve's reviews run side by side). Prints the
//! index time, the time of the 1,000 judgments (signing the sets is not counted: it happens at build
//! time; the signed envelopes are held, as a verifier holds what it reads) and the process's peak
//! RSS; the targets are under 10 s in all and under 500 MiB.
//!
//! `VOUCH_OSV_BENCH_DB=PATH cargo bench --bench rejudge`

#[path = "support/osv.rs"]
mod osv_bench;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use vouch::attest::dsse::Envelope;
use vouch::attest::keys::{generate, PrivateKey};
use vouch::attest::set::{LoadedSet, Signed, SBOM_ENVELOPE, VERDICT_ENVELOPE};
use vouch::attest::statement::AttestedImage;
use vouch::attest::{signed_set, SetInput};
use vouch::policy::Policy;
use vouch::rejudge::{rejudge, Rejudge};
use vouch::verify::{verify, Requirements, Signers};
use vouch::vuln::db::index::Index;
use vouch::vuln::sources::Sources;

const SETS: usize = 1000;
const COMPONENTS: usize = 500;

/// The purl of component `i` of SBOM `set`, in the fixture's name space (`pkg-<n>`, n < 20000).
fn purl(set: usize, i: usize) -> String {
    let n = (set * 7919 + i * 104_729) % 20000;
    match i % 5 {
        0 => format!("pkg:deb/debian/pkg-{n}@2.3.0-1?arch=amd64&distro=debian-12"),
        1 => format!("pkg:pypi/pkg-{n}@2.3.0"),
        2 => format!("pkg:npm/pkg-{n}@2.3.0"),
        3 => format!("pkg:golang/github.com/example/pkg-{n}@v2.3.0"),
        _ => format!("pkg:maven/org.example/pkg-{n}@2.3.0"),
    }
}

/// A vouch CycloneDX SBOM of image `id`.
fn sbom(set: usize, id: &str) -> Value {
    let components: Vec<Value> = (0..COMPONENTS)
        .map(|i| {
            let purl = purl(set, i);
            let version = purl.rsplit('@').next().unwrap_or_default();
            let version = version.split('?').next().unwrap_or_default().to_string();
            json!({"type": "library", "bom-ref": purl, "name": format!("pkg-{i}"),
                   "version": version, "purl": purl,
                   "properties": [{"name": "vouch:layerIndex", "value": "0"}]})
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"component": {"type": "container", "name": "bench/app", "properties": [
            {"name": "vouch:image:id", "value": id},
            {"name": "vouch:image:layer", "value": id},
            {"name": "vouch:config:user", "value": "app"}
        ]}},
        "components": components
    })
}

fn envelope(files: &[vouch::attest::set::SetFile], name: &str) -> Envelope {
    let file = files.iter().find(|f| f.name == name).expect("in the set");
    serde_json::from_slice(&file.to_bytes().expect("written")).expect("an envelope")
}

fn main() {
    let path = osv_bench::database();
    let (private, public) = generate(b"bench").expect("a key pair");
    let key = PrivateKey::from_encrypted_pem(private.as_bytes(), b"bench", "bench.key")
        .expect("the key loads");
    let keys = Signers::keys(vec![vouch::attest::keys::PublicKey::from_pem(
        public.as_bytes(),
        "bench.pub",
    )
    .expect("the public key loads")]);
    let policy = Policy::default_policy();

    let started = Instant::now();
    let index = Index::build(std::path::Path::new(&path)).expect("the database indexes");
    let indexing = started.elapsed();
    let records = index.records_read;
    let sources = Sources {
        db: Some(path.clone().into()),
        index: Some(Arc::new(index)),
        ..Default::default()
    };

    // Signed as attest signs them, before the clock starts (signing happens at build time); kept
    // as the envelopes a verifier reads.
    let now = time::OffsetDateTime::now_utc();
    let sets: Vec<(String, LoadedSet)> = (0..SETS)
        .map(|set| {
            let id = format!("sha256:{:064x}", set + 1);
            let subject = AttestedImage {
                name: "bench/app".into(),
                manifest_digest: None,
                config_digest: id.clone(),
                index_digest: None,
            };
            let document = sbom(set, &id);
            let verdict = json!({"rules": []});
            let signed = signed_set(
                &SetInput {
                    subject: &subject,
                    verdict: &verdict,
                    result: "PASSED",
                    time_verified: "2026-12-01T00:00:00Z",
                    policy_source: &policy.source,
                    policy_digest: &policy.digest,
                },
                &document,
                &key,
            )
            .expect("the set signs");
            let files = signed.files();
            let loaded = LoadedSet {
                location: format!("bench set {set}"),
                sbom: Ok(Signed::with_key(envelope(&files, SBOM_ENVELOPE))),
                verdict: Ok(Signed::with_key(envelope(&files, VERDICT_ENVELOPE))),
            };
            (id, loaded)
        })
        .collect();

    // Judged again as verify --rejudge and serve --rejudge judge them, as many at a time as there
    // are cores (serve's reviews run side by side).
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let start = Instant::now();
    let outcomes: Vec<(bool, bool, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = sets
            .chunks(SETS.div_ceil(workers))
            .map(|chunk| {
                let (keys, policy, sources) = (&keys, &policy, &sources);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(id, loaded)| {
                            let mut report = verify(
                                "bench/app",
                                std::slice::from_ref(id),
                                loaded,
                                keys,
                                &Requirements::default(),
                                now,
                            );
                            rejudge(&mut report, &Rejudge { policy, sources })
                                .expect("the set is judged again");
                            let rejudged = report
                                .checks
                                .iter()
                                .find(|c| c.name == vouch::rejudge::CHECK)
                                .is_some_and(|c| c.passed);
                            let failed = report.checks.iter().filter(|c| !c.passed).count();
                            (report.verified, !rejudged, failed)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker finishes"))
            .collect()
    });
    let judging = start.elapsed();
    let verified = outcomes.iter().filter(|o| o.0).count();
    let findings_sets = outcomes.iter().filter(|o| o.1).count();
    let failed_checks: usize = outcomes.iter().map(|o| o.2).sum();
    println!(
        "re-judgment: {SETS} signed SBOMs of {COMPONENTS} components against {records} records, {workers} at a time: index {:.2} s, judging {:.2} s ({:.1} ms each), {:.2} s in all, peak RSS {:.0} MiB ({verified} still verified, {findings_sets} with new gating findings, {failed_checks} failed checks)",
        indexing.as_secs_f64(),
        judging.as_secs_f64(),
        judging.as_secs_f64() * 1000.0 / SETS as f64,
        (indexing + judging).as_secs_f64(),
        osv_bench::peak_rss_mib()
    );
}
