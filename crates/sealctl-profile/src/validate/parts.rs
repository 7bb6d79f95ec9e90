//! `check` of a file in parts, read a block at a time, so that memory stays small however large
//! the file is (a file of 10,000 profiles is checked in a few MiB).
//!
//! A profile file is, in the usual order: top-level keys and tables (the *head*), then
//! `[[profile]]` tables, each with its own `[profile.…]` sub-tables, then tables outside the
//! profiles such as `[sealctl]` (the *tail*). Each of these parts is parsed on its own, and
//! walked by the same rules as a whole file; the parts of one block are walked in parallel.
//! What spans parts is carried between them: the file's recipients, the profile names met, the
//! keys of the head.
//!
//! Where the parts could mean something else together than apart, the file is handed back to
//! be parsed in one piece ([`Checked::NeedsWhole`]): a part that does not parse (so that the
//! error is the one the whole file's parser reports), a header the scan cannot judge, a profile
//! sub-table after the tail began, a tail key that the head has too, text that is not UTF-8,
//! and sealed values whose recipients can only be judged against a `[sealctl]` table met after
//! them and that differ from it.

use std::io::{self, Read};
use std::ops::Range;
use std::time::{Duration, SystemTime};

use rayon::prelude::*;
use toml_edit::{Document, Item};

use super::profiles::{Names, ProfileName};
use super::toml10::{self, HeaderKind};
use super::{Walk, show_lines};
use crate::diagnostic::Diagnostic;
use crate::schema::key_for;
use crate::source::SourceText;

/// How much is read at a time, at least. A part longer than this is read whole.
pub(super) const READ_BYTES: usize = 256 * 1024;

/// What checking in parts came to.
pub(super) enum Checked {
    /// Every diagnostic, each with its line to show.
    Found(Vec<Diagnostic>),
    /// The file must be parsed in one piece; with its bytes when they were all read already.
    NeedsWhole(Option<Vec<u8>>),
}

/// Why a file goes back to be parsed in one piece.
struct NeedsWhole;

/// Where the reading is, in the order of a profile file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first `[[profile]]`.
    Head,
    /// In the profiles.
    Profiles,
    /// After the first table outside the profiles that follows them.
    Tail,
}

/// The parts of the text read so far that can be walked now (offsets into that text).
#[derive(Default)]
struct Plan {
    head: Option<Range<usize>>,
    profiles: Vec<Range<usize>>,
    tail: Option<Range<usize>>,
    /// Everything before this is walked now; the rest waits for more text.
    cut: usize,
}

/// What one profile's walk found.
struct ProfileFound {
    found: Vec<Diagnostic>,
    secrets: Vec<Range<usize>>,
    name: Option<ProfileName>,
    unjudged: Vec<String>,
    expiring: Vec<(Diagnostic, Duration)>,
}

struct Parts {
    now: SystemTime,
    phase: Phase,
    /// The file offset and 0-based line of the first byte not yet walked.
    offset: usize,
    line: usize,
    /// The fingerprint of the file's `[sealctl] recipients`, once known.
    recipients: Option<String>,
    head_keys: Vec<String>,
    /// Recipients fingerprints of sealed values met before the file's recipients were known.
    unjudged: Vec<String>,
    names: Names,
    found: Vec<Diagnostic>,
    /// The first part walked, which holds the file's first line (diagnostics of the whole file
    /// point there).
    first: Option<SourceText>,
    /// The file's `[sealctl] expiry_warning`, once met.
    window: Option<Duration>,
    /// `token-expiring` findings, each with its line to show, until the window is known.
    expiring: Vec<(Diagnostic, Duration)>,
}

/// Checks what `reader` yields in parts, reading at least `read_bytes` at a time.
pub(super) fn check(
    reader: &mut impl Read,
    now: SystemTime,
    read_bytes: usize,
) -> io::Result<Checked> {
    let mut parts = Parts {
        now,
        phase: Phase::Head,
        offset: 0,
        line: 0,
        recipients: None,
        head_keys: Vec::new(),
        unjudged: Vec::new(),
        names: Names::new(),
        found: Vec::new(),
        first: None,
        window: None,
        expiring: Vec::new(),
    };
    let mut text: Vec<u8> = Vec::new();
    let mut want = read_bytes.max(1);
    loop {
        let end = read_up_to(reader, &mut text, want)?;
        let scan = toml10::scan(&text);
        let plan = match parts.plan(&scan.headers, text.len(), end) {
            Ok(plan) => plan,
            Err(NeedsWhole) => return needs_whole(parts.offset, text, end),
        };
        if plan.cut == 0 {
            if end {
                break;
            }
            // One part is longer than what was read: read more before walking it.
            want = want.saturating_mul(2);
            continue;
        }
        let forms = scan
            .forms
            .into_iter()
            .filter(|form| form.span.start < plan.cut);
        if parts.walk(&text[..plan.cut], &plan, forms).is_err() {
            return needs_whole(parts.offset, text, end);
        }
        text.drain(..plan.cut);
        want = read_bytes.max(1);
        if end && text.is_empty() {
            break;
        }
    }
    Ok(parts.finish())
}

/// With nothing walked yet, the text read is the whole file: hand it back to save reading it
/// again. Otherwise the caller reads the file again.
fn needs_whole(offset: usize, text: Vec<u8>, end: bool) -> io::Result<Checked> {
    Ok(Checked::NeedsWhole((offset == 0 && end).then_some(text)))
}

/// Reads until `text` holds `want` bytes or the reader ends; returns whether it ended.
fn read_up_to(reader: &mut impl Read, text: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while text.len() < want {
        let missing = (want - text.len()) as u64;
        match reader.by_ref().take(missing).read_to_end(text) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(false)
}

impl Parts {
    /// Splits the text read so far (whose headers the scan found) into the parts that can be
    /// walked now. Without `end`, the last header may be cut off, so only its place counts.
    fn plan(
        &mut self,
        headers: &[toml10::Header],
        len: usize,
        end: bool,
    ) -> Result<Plan, NeedsWhole> {
        let judged = if end {
            headers
        } else {
            &headers[..headers.len().saturating_sub(1)]
        };
        let mut plan = Plan::default();
        // Where the part being gathered started.
        let mut start = 0;
        for header in judged {
            match (self.phase, header.kind) {
                (Phase::Head, HeaderKind::Profile) => {
                    plan.head = Some(0..header.at);
                    self.phase = Phase::Profiles;
                    start = header.at;
                }
                (Phase::Head, _) | (Phase::Profiles, HeaderKind::InsideProfile) => {}
                (Phase::Profiles, HeaderKind::Profile) => {
                    plan.profiles.push(start..header.at);
                    start = header.at;
                }
                (Phase::Profiles, HeaderKind::Other) => {
                    plan.profiles.push(start..header.at);
                    self.phase = Phase::Tail;
                    start = header.at;
                }
                (Phase::Tail, HeaderKind::Other) => {}
                (_, HeaderKind::Unclear | HeaderKind::InsideProfile | HeaderKind::Profile) => {
                    return Err(NeedsWhole);
                }
            }
        }
        match self.phase {
            // A file without `[[profile]]` is all head: the whole file's rules apply.
            Phase::Head if end => return Err(NeedsWhole),
            Phase::Profiles if end => {
                plan.profiles.push(start..len);
                start = len;
            }
            Phase::Tail if end => {
                plan.tail = Some(start..len);
                start = len;
            }
            _ => {}
        }
        // The text read next starts at a header, and a file may open with one: the part
        // before it is empty.
        plan.profiles.retain(|part| !part.is_empty());
        plan.cut = start;
        Ok(plan)
    }

    /// Walks the parts of `text` (the file from `self.offset` on) that `plan` names.
    fn walk(
        &mut self,
        text: &[u8],
        plan: &Plan,
        forms: impl Iterator<Item = toml10::Toml11Form>,
    ) -> Result<(), NeedsWhole> {
        let text = std::str::from_utf8(text).map_err(|_| NeedsWhole)?;
        let mut source = SourceText::part(text.to_owned(), self.offset, self.line);
        let source_ref = &source;
        let mut found = Vec::new();
        let mut secrets = Vec::new();

        let mut walk = Walk::new(source_ref, self.now, self.offset);
        walk.toml11_forms(forms);
        found.append(&mut walk.found);

        if let Some(head) = &plan.head {
            let document = Document::parse(&text[head.clone()]).map_err(|_| NeedsWhole)?;
            let root = document.as_table();
            if key_for(root, "profile").is_some() {
                return Err(NeedsWhole);
            }
            let mut walk = Walk::new(source_ref, self.now, self.offset + head.start);
            let unknown = walk.top_level(root);
            walk.unknown_top_level(root, &unknown);
            self.recipients = walk.recipients.take();
            self.window = self.window.or(walk.window);
            self.head_keys = root.iter().map(|(key, _)| key.to_owned()).collect();
            found.append(&mut walk.found);
            secrets.append(&mut walk.secrets);
        }

        let profiles: Vec<ProfileFound> = plan
            .profiles
            .par_iter()
            .with_min_len(16)
            .map(|part| self.walk_profile(source_ref, text, part.clone()))
            .collect::<Result<_, _>>()?;
        let mut names = Walk::new(source_ref, self.now, 0);
        let mut expiring = Vec::new();
        for profile in profiles {
            found.extend(profile.found);
            expiring.extend(profile.expiring);
            secrets.extend(profile.secrets);
            self.unjudged.extend(profile.unjudged);
            if let Some(name) = profile.name {
                names.name(&mut self.names, name);
            }
        }
        self.unjudged.sort_unstable();
        self.unjudged.dedup();
        found.append(&mut names.found);

        if let Some(tail) = &plan.tail {
            let document = Document::parse(&text[tail.clone()]).map_err(|_| NeedsWhole)?;
            let root = document.as_table();
            if key_for(root, "profile").is_some()
                || root
                    .iter()
                    .any(|(key, _)| self.head_keys.iter().any(|head| head == key))
            {
                return Err(NeedsWhole);
            }
            let mut walk = Walk::new(source_ref, self.now, self.offset + tail.start);
            let unknown = walk.top_level(root);
            walk.unknown_top_level(root, &unknown);
            // Sealed values met before the recipients were known: judged here only when
            // none would be reported; else the whole file's walk reports them in place.
            if let Some(file) = &walk.recipients
                && self.unjudged.iter().any(|sealed| sealed != file)
            {
                return Err(NeedsWhole);
            }
            self.window = self.window.or(walk.window);
            found.append(&mut walk.found);
            secrets.append(&mut walk.secrets);
        }

        for secret in secrets {
            source.add_secret(secret);
        }
        self.found.extend(show_lines(&source, found));
        let (expiring, left): (Vec<Diagnostic>, Vec<Duration>) = expiring.into_iter().unzip();
        self.expiring
            .extend(show_lines(&source, expiring).into_iter().zip(left));
        self.offset = source.end();
        self.line += source.line_breaks();
        if self.first.is_none() {
            self.first = Some(source);
        }
        Ok(())
    }

    /// Parses and walks one `[[profile]]` part.
    fn walk_profile(
        &self,
        source: &SourceText,
        text: &str,
        part: Range<usize>,
    ) -> Result<ProfileFound, NeedsWhole> {
        let document = Document::parse(&text[part.clone()]).map_err(|_| NeedsWhole)?;
        let root = document.as_table();
        let table = match root.get("profile") {
            Some(Item::ArrayOfTables(array)) if root.len() == 1 && array.len() == 1 => {
                array.get(0).ok_or(NeedsWhole)?
            }
            _ => return Err(NeedsWhole),
        };
        let mut walk = Walk::new(source, self.now, self.offset + part.start);
        walk.recipients.clone_from(&self.recipients);
        let name = walk.profile_entry(table.span().unwrap_or(0..0), table);
        Ok(ProfileFound {
            found: walk.found,
            secrets: walk.secrets,
            name,
            unjudged: walk.unjudged.into_iter().collect(),
            expiring: walk.expiring,
        })
    }

    /// The rules on the whole file, once every part is walked.
    fn finish(mut self) -> Checked {
        if let Some(first) = &self.first {
            let mut walk = Walk::new(first, self.now, 0);
            walk.default_profile(&self.names);
            self.found.extend(show_lines(first, walk.found));
        }
        self.found
            .extend(super::within_window(self.expiring, self.window));
        Checked::Found(self.found)
    }
}
