//! Secrets in text: the built-in detection rules (cloud provider keys, code-hosting, chat and
//! package-registry tokens, private keys, JWTs, database URLs with passwords), each a pattern with
//! the part that is the secret, and how a secret is shown (redacted) and named across builds (a
//! fingerprint of the secret, never the secret itself). Below the policy, which applies them to the
//! image's configuration and build history.
//!
//! Precision over recall: a rule matches only the shape its issuer gives the secret (a prefix, a
//! checksum-bearing length), or a keyword right before it, and values that are placeholders
//! (`$VAR`, `${VAR}`, `changeme`, `xxx...`) are not secrets.

use crate::oci::digest::sha256_digest;
use regex::Regex;
use std::sync::OnceLock;

/// One detection rule: its stable id, what it finds, and the pattern whose group 1 is the secret.
pub struct SecretRule {
    pub id: &'static str,
    pub title: &'static str,
    pattern: &'static str,
    /// Whether the rule searches files too, not only the configuration and history. Private keys
    /// in files are the `files` rule's (which parses them, and leaves alone the keys a package
    /// installed unchanged: test keys in Go's or OpenSSL's sources are published, not secret).
    pub in_files: bool,
    /// What the line must hold before the match, from its start (a whole-match pattern), for
    /// rules that name a setting: the pattern itself then starts at a literal, which the regex
    /// engine finds fast (a `^...` pattern is tried at every line and costs 50 times more).
    line_before: Option<&'static str>,
}

/// The built-in rules. Word boundaries are ASCII ones (`(?-u:\b)`): the secrets are ASCII, and a
/// Unicode boundary makes the engine three times slower on the prefixes it searches for.
pub const RULES: &[SecretRule] = &[
    SecretRule {
        id: "aws-access-key-id",
        title: "AWS access key ID",
        pattern: r"(?-u:\b)((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})(?-u:\b)",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        pattern: r#"(?i)aws_?secret_?access_?key["']?\s*[=:]\s*["']?([A-Za-z0-9/+]{40})(?-u:\b)"#,
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "github-token",
        title: "GitHub token",
        pattern: r"(?-u:\b)(gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82})(?-u:\b)",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "gitlab-token",
        title: "GitLab personal access token",
        pattern: r"(?-u:\b)(glpat-[A-Za-z0-9_-]{20,})",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "slack-token",
        title: "Slack token",
        pattern: r"(?-u:\b)(xox[baprs]-[0-9]{6,}-[0-9A-Za-z-]{10,})",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "slack-webhook",
        title: "Slack incoming webhook",
        pattern: r"(https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "npm-token",
        title: "npm access token",
        pattern: r"(?-u:\b)(npm_[A-Za-z0-9]{36})(?-u:\b)",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "pypi-token",
        title: "PyPI API token",
        pattern: r"(?-u:\b)(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "stripe-secret-key",
        title: "Stripe secret key",
        pattern: r"(?-u:\b)((?:sk|rk)_live_[0-9A-Za-z]{24,})(?-u:\b)",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "private-key",
        title: "private key",
        pattern: r"(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----)",
        in_files: false,
        line_before: None,
    },
    SecretRule {
        id: "jwt",
        title: "JSON Web Token",
        pattern: r"(?-u:\b)(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,})",
        // In files, a token is nearly always a library's example (PyJWT's documentation and tests
        // hold thirteen): only where it configures the image.
        in_files: false,
        line_before: None,
    },
    SecretRule {
        id: "docker-config-auth",
        title: "registry credentials (docker config.json auths)",
        pattern: r#"(?s)"auths"\s*:\s*\{.*?"auth"\s*:\s*"([A-Za-z0-9+/]{12,}={0,2})""#,
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "gcp-service-account-key",
        title: "Google Cloud service account key",
        pattern: r#"(?s)"type"\s*:\s*"service_account".*?"private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----[^"]{40,})""#,
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "npmrc-auth",
        title: "npm registry credentials (.npmrc)",
        // `_authToken` of any registry (legacy tokens are UUIDs, without npm_), `_auth` (base64
        // user:password) and `_password`, as npm reads .npmrc.
        pattern: r#"(?:_authToken|_auth|_password)[ \t]*=[ \t]*["']?([^\s"'$]{8,})"#,
        in_files: true,
        line_before: Some(r"[ \t]*(?://\S+:)?"),
    },
    SecretRule {
        id: "url-credentials",
        title: "credentials in a URL (.git-credentials)",
        // A line that is nothing but an http(s) URL with user and password: the format git's
        // credential store writes, one per line.
        pattern: r"(?m)^[ \t]*https?://[^:@/\s]+:([^@\s/]{6,})@[A-Za-z0-9.-]+(?::[0-9]+)?/?[ \t]*$",
        in_files: true,
        line_before: None,
    },
    SecretRule {
        id: "dotenv-secret",
        title: "secret setting (.env)",
        // `NAME=value` as dotenv files and ENV lines set it, for names that say they hold a
        // secret; values that are references (`$VAR`), paths (`/run/secrets/db`) or short are not.
        pattern: r#"(?m)(?:SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=["']?([^\s"'#$/{<][^\s"'#]{7,})["']?[ \t]*$"#,
        in_files: true,
        line_before: Some(r"(?:export[ \t]+)?[A-Z0-9_]*"),
    },
    SecretRule {
        id: "database-url-password",
        title: "database URL with a password",
        pattern: r"(?-u:\b)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?)://[^:@/\s]+:([^@\s/]+)@",
        in_files: true,
        line_before: None,
    },
];

/// What the rule `id` finds (`GitHub token`), for messages.
pub fn title_of(id: &str) -> &'static str {
    RULES
        .iter()
        .find(|r| r.id == id)
        .map_or("secret", |r| r.title)
}

/// Each rule's pattern, and its `line_before` anchored at both ends.
fn compiled() -> &'static Vec<(Regex, Option<Regex>)> {
    static COMPILED: OnceLock<Vec<(Regex, Option<Regex>)>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                let compile =
                    |p: &str| Regex::new(p).expect("the built-in secret patterns compile");
                (
                    compile(r.pattern),
                    r.line_before.map(|b| compile(&format!("^(?:{b})$"))),
                )
            })
            .collect()
    })
}

/// One secret found: the rule, the secret's byte range in the text, and the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub rule: String,
    pub title: String,
    pub start: usize,
    pub secret: String,
}

impl Found {
    /// The secret as every output shows it: its first and last two characters (nothing of one
    /// shorter than 12).
    pub fn redacted(&self) -> String {
        redact(&self.secret)
    }

    /// A name for the secret that stays the same across builds and says nothing of it: the first
    /// 16 hex digits of its SHA-256.
    pub fn fingerprint(&self) -> String {
        let digest = sha256_digest(self.secret.as_bytes());
        digest.trim_start_matches("sha256:")[..16].to_string()
    }
}

/// `secret` redacted: `gh…9x` (first and last two characters), `…` when shorter than 12.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

/// Values that stand for a secret rather than being one.
fn placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    // AWS's documentation key (AKIAIOSFODNN7EXAMPLE) and its kind.
    secret.contains("EXAMPLE")
        || secret.starts_with('$')
        || secret.starts_with('%')
        || secret.starts_with('<')
        || secret.contains("{{")
        || [
            "password", "changeme", "secret", "example", "pass", "passwd",
        ]
        .contains(&lower.as_str())
        || secret.chars().all(|c| c == 'x' || c == 'X' || c == '*')
}

/// Values that documentation gives a setting found by its name (the generic rules): words that
/// describe a secret (`your_api_key_here`, `MYTOKEN1`, `dummy-password`) rather than being one.
fn named_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    [
        "your", "example", "sample", "dummy", "placeholder", "change", "token", "secret",
        "password", "passwd", "xxx", "redacted", "fake", "test",
    ]
    .iter()
    .any(|word| lower.contains(word))
        // An upper-case word, maybe numbered (`MYTOKEN1`, `API_KEY`): a name, not a value.
        || secret
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_')
}

/// Words one of which every built-in rule's match contains (ASCII case ignored): a text without
/// any is searched no further, which is what makes searching every file of an image affordable.
const KEYWORDS: &[&str] = &[
    "akia",
    "asia",
    "abia",
    "acca",
    "secret",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xox",
    "hooks.slack.com",
    "npm_",
    "pypi-",
    "_live_",
    "private key",
    "eyj",
    "://",
    "auths",
    "_authtoken",
    "_auth=",
    "_auth =",
    "_password=",
    "_password =",
];

/// Words of the name-based dotenv rule, matched as written (upper case, as such settings are
/// named): the lower-case words are everywhere in code and manuals, and would let most files
/// through the prefilter. (`SECRET` is [`KEYWORDS`]' `secret`.)
const KEYWORDS_EXACT: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
];

/// Whether `bytes` may hold a secret the built-in rules find (none of [`KEYWORDS`] nor
/// [`KEYWORDS_EXACT`]: it cannot).
pub fn may_hold(bytes: &[u8]) -> bool {
    static KEYS: OnceLock<(aho_corasick::AhoCorasick, aho_corasick::AhoCorasick)> = OnceLock::new();
    let (any_case, exact) = KEYS.get_or_init(|| {
        let build = |words: &[&str], any_case: bool| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(any_case)
                .build(words)
                .expect("the keywords compile")
        };
        (build(KEYWORDS, true), build(KEYWORDS_EXACT, false))
    });
    any_case.is_match(bytes) || exact.is_match(bytes)
}

/// Every secret the built-in rules find in `text`, in order of position.
pub fn find(text: &str) -> Vec<Found> {
    find_with(text, |_| true)
}

/// Every secret the built-in rules that search files find in `text`.
pub fn find_in_file(text: &str) -> Vec<Found> {
    find_with(text, |rule| rule.in_files)
}

/// A rule of the organisation's own (a policy's `secrets.rules`): its id, the pattern whose first
/// group (or whole match) is the secret, and the words one of which its match contains (none:
/// every text is searched with it).
#[derive(Debug, Clone)]
pub struct CustomRule {
    pub id: String,
    pub regex: Regex,
    pub keywords: Vec<String>,
}

/// What finds secrets for one judgement: the built-in rules and the policy's own, searched in
/// files and in the image's configuration alike.
#[derive(Debug, Default)]
pub struct Detector {
    custom: Vec<CustomRule>,
    /// The custom rules' keywords (ASCII case ignored).
    keywords: Option<aho_corasick::AhoCorasick>,
    /// Whether some custom rule has no keywords (then no text can be ruled out).
    unkeyed: bool,
}

impl Detector {
    /// A detector with the built-in rules and `custom` ones; an id of a built-in rule is refused.
    pub fn new(custom: Vec<CustomRule>) -> Result<Detector, String> {
        if let Some(clash) = custom.iter().find(|c| RULES.iter().any(|r| r.id == c.id)) {
            return Err(format!(
                "secrets rule `{}` has the id of a built-in rule",
                clash.id
            ));
        }
        let words: Vec<&str> = custom
            .iter()
            .flat_map(|c| c.keywords.iter().map(String::as_str))
            .collect();
        let keywords = (!words.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&words)
                    .map_err(|e| format!("secrets rules' keywords: {e}"))
            })
            .transpose()?;
        Ok(Detector {
            unkeyed: custom.iter().any(|c| c.keywords.is_empty()),
            custom,
            keywords,
        })
    }

    /// The ids of the rules this detector applies.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        RULES
            .iter()
            .map(|r| r.id)
            .chain(self.custom.iter().map(|c| c.id.as_str()))
    }

    /// Whether this detector applies the rule `id`.
    pub fn applies(&self, id: &str) -> bool {
        self.rule_ids().any(|r| r == id)
    }

    /// The custom rules.
    pub fn custom_rules(&self) -> &[CustomRule] {
        &self.custom
    }

    /// Whether `bytes` may hold a secret some rule finds.
    pub fn may_hold(&self, bytes: &[u8]) -> bool {
        self.unkeyed || may_hold(bytes) || self.keywords.as_ref().is_some_and(|k| k.is_match(bytes))
    }

    /// Every secret in the image's configuration or history text.
    pub fn find(&self, text: &str) -> Vec<Found> {
        self.with_custom(find(text), text)
    }

    /// Every secret in a file's text (the built-in rules that search files, and every custom one).
    pub fn find_in_file(&self, text: &str) -> Vec<Found> {
        self.with_custom(find_in_file(text), text)
    }

    fn with_custom(&self, mut found: Vec<Found>, text: &str) -> Vec<Found> {
        for rule in &self.custom {
            for captures in rule.regex.captures_iter(text) {
                let Some(secret) = captures.get(1).or_else(|| captures.get(0)) else {
                    continue;
                };
                if secret.as_str().is_empty() || placeholder(secret.as_str()) {
                    continue;
                }
                found.push(Found {
                    rule: rule.id.clone(),
                    title: "secret (the policy's rule)".to_string(),
                    start: secret.start(),
                    secret: secret.as_str().to_string(),
                });
            }
        }
        found.sort_by_key(|f| f.start);
        found
    }
}

/// Whether what follows a secret says it is a local or documentation value: a URL's password for
/// a database on this machine (`postgres:postgres@localhost`) or on a placeholder host
/// (`scott:tiger@host/test`, `...@db.example.com`).
fn local(text: &str, end: usize) -> bool {
    let Some(after) = text[end..].strip_prefix('@') else {
        return false;
    };
    let host = after
        .split(|c: char| c == '/' || c == '?' || c == '"' || c == '\'' || c.is_whitespace())
        .next()
        .unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    }
    .to_ascii_lowercase();
    [
        "localhost",
        "127.0.0.1",
        "::1",
        "host",
        "hostname",
        "server",
        "example.com",
    ]
    .contains(&host.as_str())
        || [
            ".example.com",
            ".example.org",
            ".example.net",
            ".example",
            ".test",
            ".invalid",
            ".localhost",
        ]
        .iter()
        .any(|suffix| host.ends_with(suffix))
}

fn find_with(text: &str, searched: impl Fn(&SecretRule) -> bool) -> Vec<Found> {
    let mut found = Vec::new();
    for (rule, (regex, line_before)) in RULES.iter().zip(compiled()) {
        if !searched(rule) {
            continue;
        }
        for captures in regex.captures_iter(text) {
            let Some(secret) = captures.get(1) else {
                continue;
            };
            if let (Some(before), Some(whole)) = (line_before, captures.get(0)) {
                let line_start = text[..whole.start()].rfind('\n').map_or(0, |at| at + 1);
                if !before.is_match(&text[line_start..whole.start()]) {
                    continue;
                }
            }
            if placeholder(secret.as_str())
                || local(text, secret.end())
                || (GENERIC.contains(&rule.id) && named_placeholder(secret.as_str()))
            {
                continue;
            }
            found.push(Found {
                rule: rule.id.to_string(),
                title: rule.title.to_string(),
                start: secret.start(),
                secret: secret.as_str().to_string(),
            });
        }
    }
    found.sort_by_key(|f| f.start);
    without_generic_overlaps(found)
}

/// Rules that find a secret by the name it is given, not its shape: one a shape rule also finds
/// (`GITHUB_TOKEN=ghp_...`) is that rule's alone.
const GENERIC: &[&str] = &["dotenv-secret", "npmrc-auth", "url-credentials"];

fn without_generic_overlaps(found: Vec<Found>) -> Vec<Found> {
    let overlaps = |a: &Found, b: &Found| {
        a.start < b.start + b.secret.len() && b.start < a.start + a.secret.len()
    };
    found
        .iter()
        .filter(|f| {
            !GENERIC.contains(&f.rule.as_str())
                || !found
                    .iter()
                    .any(|o| !GENERIC.contains(&o.rule.as_str()) && overlaps(f, o))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        find(text).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn the_issuers_shapes_are_found() {
        let github = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(ids(&format!("GITHUB_TOKEN={github}")), ["github-token"]);
        assert_eq!(
            ids("AWS_ACCESS_KEY_ID=AKIAZ7Q2QX3MPLE4KEYQ"),
            ["aws-access-key-id"]
        );
        assert_eq!(
            ids("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQX3MPLEKY"),
            ["aws-secret-access-key"]
        );
        assert_eq!(
            ids(&format!(
                "//registry.npmjs.org/:_authToken=npm_{}",
                "Z9y8".repeat(9)
            )),
            ["npm-token"]
        );
        assert_eq!(
            ids("DATABASE_URL=postgres://shop:s3cr3t-Pw@db.internal:5432/shop"),
            ["database-url-password"]
        );
        assert_eq!(ids("-----BEGIN OPENSSH PRIVATE KEY-----"), ["private-key"]);
    }

    /// The credential files' own shapes: .npmrc (a legacy UUID token, `_auth`), .git-credentials,
    /// a dotenv file; and what is not one there.
    #[test]
    fn credential_files_are_read_as_their_tools_write_them() {
        let npmrc = "registry=https://registry.npmjs.org/\n//npm.acme.internal/:_authToken=2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901\n_auth=dXNlcjpzM2NyM3QtcGFzcw==\n";
        assert_eq!(find_in_file(npmrc).len(), 2);
        assert!(find_in_file("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n").is_empty());
        // npm's own documentation of the file (usr/share/doc/npm/configuring-npm/npmrc.md).
        assert!(find_in_file("//somewhere-else.com/myorg/:_authToken=MYTOKEN1\n").is_empty());
        assert!(find_in_file("API_KEY=your_api_key_here\n").is_empty());
        assert_eq!(
            ids("https://ci-bot:Zq81kPw0-rT@git.acme.internal\n"),
            ["url-credentials"]
        );
        assert!(find_in_file("see https://user:password@host for the form\n").is_empty());
        assert!(find_in_file("https://me:hunter22@localhost\n").is_empty());
        let dotenv = "# app\nDEBUG=false\nSTRIPE_API_KEY=\"k_9fA2mQ7xLw\"\nexport DB_PASSWORD=Tr0ub4dor-and-3\nSESSION_SECRET=$SESSION_SECRET\nPOSTGRES_PASSWORD_FILE=/run/secrets/db\nAPI_TOKEN=changeme\nTOKEN_TTL=3600\n";
        let found: Vec<(String, String)> = find_in_file(dotenv)
            .into_iter()
            .map(|f| (f.rule, f.secret))
            .collect();
        assert_eq!(
            found,
            [
                ("dotenv-secret".to_string(), "k_9fA2mQ7xLw".to_string()),
                ("dotenv-secret".to_string(), "Tr0ub4dor-and-3".to_string())
            ]
        );
        // Python assignments (spaces, a test value) are not dotenv lines.
        assert!(find_in_file("SECRET_KEY = \"django_tests_secret_key\"\n").is_empty());
        for text in [
            npmrc,
            "https://ci-bot:Zq81kPw0-rT@git.acme.internal",
            dotenv,
        ] {
            assert!(may_hold(text.as_bytes()));
        }
    }

    #[test]
    fn placeholders_and_lookalikes_are_not_secrets() {
        assert!(find("DATABASE_URL=postgres://shop:${DB_PASSWORD}@db/shop").is_empty());
        assert!(find("DATABASE_URL=postgres://user:password@localhost/db").is_empty());
        assert!(find("ghp_short").is_empty());
        assert!(find("AKIA_NOT_A_KEY and AKIAlowercase0000000").is_empty());
        assert!(find("GITHUB_TOKEN=$GITHUB_TOKEN").is_empty());
        assert!(find("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(find("uri = \"postgresql://app:Kq8-xz2@localhost:5432/pandas\"").is_empty());
        assert!(find_in_file("-----BEGIN RSA PRIVATE KEY-----").is_empty());
        assert!(find("create_engine(\"postgresql://scott:t1g3r-x@host/test\")").is_empty());
        assert!(find("mysql://app:Kq8-xz2@db.example.com:3306/app").is_empty());
        assert_eq!(
            ids("mysql://app:Kq8-xz2@db.internal:3306/app"),
            ["database-url-password"]
        );
    }

    #[test]
    fn every_rule_shares_a_keyword_with_what_it_finds() {
        let samples = [
            format!("ghp_{}", "a1B2".repeat(9)),
            "AKIAZ7Q2QX3MPLE4KEYQ".to_string(),
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQX3MPLEKY".to_string(),
            format!("glpat-{}", "x1".repeat(10)),
            "xoxb-123456789-abcdefghijkl".to_string(),
            format!("npm_{}", "Z9y8".repeat(9)),
            format!("pypi-AgEIcHlwaS5vcmc{}", "A".repeat(60)),
            format!("sk_live_{}", "a".repeat(24)),
            "-----BEGIN RSA PRIVATE KEY-----".to_string(),
            format!("eyJ{0}.eyJ{0}.{1}", "a".repeat(12), "b".repeat(24)),
            "{\"auths\": {\"r.example\": {\"auth\": \"dXNlcjpzM2NyM3QtcGFzcw==\"}}}".to_string(),
            "mysql://app:Pw0rd-9@db/app".to_string(),
        ];
        for sample in &samples {
            assert!(!find(sample).is_empty(), "{sample}");
            assert!(may_hold(sample.as_bytes()), "{sample}");
        }
        assert!(!may_hold(b"just some text, nothing to see"));
    }

    #[test]
    fn secrets_are_shown_redacted_and_named_by_fingerprint() {
        let found = &find("AKIAZ7Q2QX3MPLE4KEYQ")[0];
        assert_eq!(found.redacted(), "AK…YQ");
        assert_eq!(found.fingerprint().len(), 16);
        assert!(!found.fingerprint().contains("AKIA"));
        assert_eq!(redact("short"), "…");
    }
}
