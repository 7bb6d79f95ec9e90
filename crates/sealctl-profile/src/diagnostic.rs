//! What `check` reports: rules with stable ids, and diagnostics that point at a place in a file.

use std::fmt;
use std::ops::Range;

use crate::source::DisplayLine;

/// How serious a finding is: errors fail `check`, warnings fail it only with `--deny-warnings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file is broken, or unsafe to keep as it is.
    Error,
    /// The file works, but probably not as its author meant.
    Warning,
}

impl Severity {
    /// The lower-case word used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! rules {
    ($( $(#[doc = $doc:literal])* $variant:ident => $id:literal, $severity:ident, $summary:literal; )*) => {
        /// A validation rule. Its [`id`](Rule::id) is a public interface: scripts, SARIF consumers
        /// and users' suppressions refer to it, so an id never changes once released.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in the order the documentation lists them.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable, kebab-case id (`plaintext-secret`).
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The severity this rule reports with.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// One line saying what the rule finds, for `--help`-like listings and SARIF.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            /// The rule with this id, if there is one.
            pub fn from_id(id: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|rule| rule.id() == id)
            }
        }
    };
}

rules! {
    /// Not valid TOML 1.0.0, the grammar influxctl's parser accepts.
    TomlSyntax => "toml-syntax", Error, "not valid TOML 1.0.0, the grammar influxctl reads";
    /// An influxctl 1.x flat file.
    LegacyFormat => "legacy-format", Error, "an influxctl 1.x file, which influxctl 2.x no longer reads";
    /// Valid TOML without any `[[profile]]`.
    NoProfiles => "no-profiles", Error, "no [[profile]] table";
    /// A known key with the wrong TOML type.
    WrongType => "wrong-type", Error, "a known key with the wrong TOML type";
    /// A required key is missing from a profile.
    MissingKey => "missing-key", Error, "a profile lacks a key its product requires";
    /// `product` is neither `clustered` nor `dedicated`.
    InvalidProduct => "invalid-product", Error, "product is neither clustered nor dedicated";
    /// `port` is not a decimal number from 1 to 65535.
    InvalidPort => "invalid-port", Error, "port is not a decimal number from 1 to 65535";
    /// `host` is empty or holds a scheme, path, port or whitespace.
    InvalidHost => "invalid-host", Error, "host is not a bare host name";
    /// `token_url` or `device_url` is not an absolute http(s) URL.
    InvalidUrl => "invalid-url", Error, "an OAuth2 URL is not an absolute http(s) URL";
    /// A profile name used twice, or empty.
    DuplicateProfile => "duplicate-profile", Error, "a profile name used twice, or empty";
    /// Two keys of one table that influxctl reads as the same key (`mgmt_token`, `MGMT_TOKEN`).
    DuplicateKey => "duplicate-key", Error, "two spellings of one key, which influxctl reads as the same key";
    /// A secret kept in plaintext.
    PlaintextSecret => "plaintext-secret", Error, "a token kept in plaintext";
    /// A value that starts like a sealed value but does not parse as one.
    MalformedSealed => "malformed-sealed", Error, "a sealed value whose framing does not parse";
    /// A sealed token whose recorded expiry has passed.
    TokenExpired => "token-expired", Error, "a sealed token that has expired";
    /// A sealed value bound to another endpoint than its profile's: its `ep=` digest differs.
    EndpointChanged => "endpoint-changed", Error, "a sealed value bound to another endpoint than its profile's";
    /// A `[sealctl] recipients` entry that values cannot be sealed to.
    InvalidRecipient => "invalid-recipient", Error, "a [sealctl] recipients entry that cannot be sealed to";
    /// `[sealctl] recipients` that age refuses to seal to together: post-quantum `age1tagpq1…`
    /// beside classical ones.
    IncompatibleRecipients => "incompatible-recipients", Error, "recipients age refuses to seal to together";
    /// A TLS client certificate without its key, or the reverse.
    TlsPair => "tls-pair", Error, "tls.cert without tls.key, or the reverse";
    /// A `[sealctl]` setting that does not read (`expiry_warning` that is not a duration).
    InvalidSetting => "invalid-setting", Error, "a [sealctl] setting that sealctl cannot read";
    /// A key the schema does not know.
    UnknownKey => "unknown-key", Warning, "a key influxctl does not know";
    /// No profile is named `default`.
    NoDefaultProfile => "no-default-profile", Warning, "no profile named default";
    /// A sealed value sealed to other recipients than the file's current ones.
    StaleRecipients => "stale-recipients", Warning, "a value sealed to other recipients than the file's";
    /// A sealed value not bound to any endpoint (sealed by an earlier sealctl, or its `ep=` removed).
    Unbound => "unbound", Warning, "a sealed value not bound to its profile's endpoint";
    /// A recipient listed twice in `[sealctl] recipients`.
    DuplicateRecipient => "duplicate-recipient", Warning, "a recipient listed twice";
    /// A sealed token that expires within 14 days, or the file's `[sealctl] expiry_warning`.
    TokenExpiring => "token-expiring", Warning, "a sealed token that expires within 14 days (or [sealctl] expiry_warning)";
    /// `tls.insecure = true`.
    InsecureTls => "insecure-tls", Warning, "server certificates are not checked";
    /// `account_id` or `cluster_id` is not a UUID.
    InvalidUuid => "invalid-uuid", Warning, "an account or cluster id that is not a UUID";
    /// No post-quantum recipient in `[sealctl] recipients`, in a file that asks for one
    /// (`require_post_quantum = true`): opt-in.
    NoPostQuantumRecipient => "no-post-quantum-recipient", Warning, "no post-quantum recipient, in a file that asks for one";
    /// A sealed value of a backend this sealctl does not know (written by a newer sealctl?).
    UnknownBackend => "unknown-backend", Warning, "a sealed value of a backend this sealctl does not know";
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A sealctl command that fixes a finding. A check of bytes does not know their file, so a
/// front end completes the command with it (`--config FILE`, shell-quoted) before showing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// The subcommand and its arguments: `["seal"]`, `["rekey", "--all"]`.
    pub args: Vec<String>,
    /// The profile it acts on (`--profile`), if it acts on one.
    pub profile: Option<String>,
}

/// One finding in one file.
///
/// A diagnostic never holds any part of a secret: messages about `mgmt_token`, `token` and other
/// secret-looking keys name the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule that found it.
    pub rule: Rule,
    /// The rule's severity, copied here so that consumers need not look it up.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, where sealctl can say.
    pub help: Option<String>,
    /// The sealctl command that does what `help` says, where there is one. Front ends show it
    /// after the help, completed with the file it is about.
    pub fix: Option<Fix>,
    /// Byte range in the file that the diagnostic points at.
    pub span: Range<usize>,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, counted in Unicode scalar values.
    pub column: usize,
    /// The profile's name, where the finding is inside a named profile.
    pub profile: Option<String>,
    /// The dotted key inside the profile (`tls.cert`), or at top level (`account_id`).
    pub key: Option<String>,
    /// The line `span` starts on, safe to show: secrets redacted, control characters made
    /// visible.
    pub source_line: DisplayLine,
}
