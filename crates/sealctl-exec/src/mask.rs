//! `exec --mask`: every opened secret in a program's output replaced with `***`, as the output
//! streams.
//!
//! A secret may be split across two writes, so the end of what was read that could still be the
//! start of a secret is held back until the next read (or the end) says whether it is one. Only
//! that tail waits: the rest is passed on at once. Matching restarts at every byte, so a secret
//! that overlaps itself (`aab` in `aaab`) is still found, and where two secrets start at the same
//! byte the longer one is masked.

use std::io::{self, Read, Write};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// What a masked secret is replaced with.
pub const MASK: &[u8] = b"***";

/// The secrets to mask, longest first.
pub struct Secrets {
    secrets: Vec<SecretString>,
    /// Which bytes start a secret: output between them is passed on without looking further.
    starts: [bool; 256],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("count", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// The secrets to mask; empty ones are left out (they would match everywhere) and repeats
    /// kept once.
    pub fn new(secrets: impl IntoIterator<Item = SecretString>) -> Secrets {
        let mut kept: Vec<SecretString> = Vec::new();
        for secret in secrets {
            let text = secret.expose_secret();
            if !text.is_empty() && !kept.iter().any(|seen| seen.expose_secret() == text) {
                kept.push(secret);
            }
        }
        // Longest first: at one position the longest secret that matches is masked.
        kept.sort_by_key(|secret| std::cmp::Reverse(secret.expose_secret().len()));
        let mut starts = [false; 256];
        for secret in &kept {
            starts[usize::from(secret.expose_secret().as_bytes()[0])] = true;
        }
        Secrets {
            secrets: kept,
            starts,
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    fn bytes(&self) -> impl Iterator<Item = &[u8]> {
        self.secrets
            .iter()
            .map(|secret| secret.expose_secret().as_bytes())
    }
}

/// One output stream being masked: what is read goes in, what may be shown comes out.
pub struct Masker<'s> {
    secrets: &'s Secrets,
    /// Read but not yet passed on: a tail that may be the start of a secret.
    held: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Masker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // What is held may be the start of a secret.
        f.debug_struct("Masker")
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl<'s> Masker<'s> {
    /// A masker of `secrets`, holding nothing yet.
    pub fn new(secrets: &'s Secrets) -> Masker<'s> {
        Masker {
            secrets,
            held: Zeroizing::new(Vec::new()),
        }
    }

    /// Takes `input`, appends to `output` everything that can be shown now (secrets masked), and
    /// holds back a tail that may still become a secret.
    pub fn push(&mut self, input: &[u8], output: &mut Vec<u8>) {
        self.held.extend_from_slice(input);
        let used = self.scan(output, true);
        self.held.drain(..used);
    }

    /// The end of the stream: everything held is passed on, the secrets in it masked.
    pub fn finish(&mut self, output: &mut Vec<u8>) {
        let used = self.scan(output, false);
        debug_assert_eq!(used, self.held.len());
        self.held.clear();
    }

    /// Masks `held` into `output` from its start; returns how many bytes were used. With
    /// `hold_tail`, stops at the first byte from which the rest is a proper prefix of a secret.
    fn scan(&self, output: &mut Vec<u8>, hold_tail: bool) -> usize {
        let held = &self.held[..];
        let mut at = 0;
        let mut shown_from = 0;
        while at < held.len() {
            if !self.secrets.starts[usize::from(held[at])] {
                at += 1;
                continue;
            }
            let rest = &held[at..];
            // A longer secret may still start here, even if a shorter one is whole already:
            // the next read decides (the longest wins).
            if hold_tail
                && self
                    .secrets
                    .bytes()
                    .any(|secret| secret.len() > rest.len() && secret.starts_with(rest))
            {
                break;
            }
            if let Some(secret) = self.secrets.bytes().find(|secret| rest.starts_with(secret)) {
                output.extend_from_slice(&held[shown_from..at]);
                output.extend_from_slice(MASK);
                at += secret.len();
                shown_from = at;
                continue;
            }
            at += 1;
        }
        output.extend_from_slice(&held[shown_from..at]);
        at
    }
}

/// Copies `from` to `to` until the end, masking `secrets`; each read is written and flushed at
/// once, so the output appears as the program writes it. A program that ends its side with an
/// error (`EIO` from a pseudo-terminal whose program is gone) has ended.
pub fn copy_masked(secrets: &Secrets, mut from: impl Read, mut to: impl Write) -> io::Result<()> {
    let mut masker = Masker::new(secrets);
    let mut buffer = Zeroizing::new(vec![0u8; 16 * 1024]);
    let mut shown = Zeroizing::new(Vec::new());
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            // A pseudo-terminal says EIO once no process has it open any more: the end.
            Err(error) if error.raw_os_error() == Some(libc::EIO) => break,
            Err(error) => return Err(error),
        };
        shown.clear();
        masker.push(&buffer[..read], &mut shown);
        if !shown.is_empty() {
            to.write_all(&shown)?;
            to.flush()?;
        }
    }
    shown.clear();
    masker.finish(&mut shown);
    to.write_all(&shown)?;
    to.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&str]) -> Secrets {
        Secrets::new(list.iter().map(|s| SecretString::from(s.to_string())))
    }

    /// The output for `writes`, and what was shown after each write.
    fn masked(list: &[&str], writes: &[&str]) -> (String, Vec<String>) {
        let secrets = secrets(list);
        let mut masker = Masker::new(&secrets);
        let mut all = Vec::new();
        let mut after = Vec::new();
        for write in writes {
            let mut out = Vec::new();
            masker.push(write.as_bytes(), &mut out);
            after.push(String::from_utf8(out.clone()).unwrap());
            all.extend(out);
        }
        masker.finish(&mut all);
        (String::from_utf8(all).unwrap(), after)
    }

    #[test]
    fn a_secret_in_one_write_is_masked() {
        assert_eq!(masked(&["s3cret"], &["a s3cret b\n"]).0, "a *** b\n");
    }

    #[test]
    fn a_secret_split_across_writes_is_masked_and_only_its_prefix_waits() {
        let (all, after) = masked(&["s3cret"], &["token: s3", "cret!\n"]);
        assert_eq!(all, "token: ***!\n");
        assert_eq!(after, ["token: ", "***!\n"]);
    }

    #[test]
    fn a_prefix_that_is_not_the_secret_is_released() {
        let (all, after) = masked(&["s3cret"], &["x s3cr", "ab\n"]);
        assert_eq!(all, "x s3crab\n");
        assert_eq!(after, ["x ", "s3crab\n"]);
        // At the end of the stream, too.
        assert_eq!(masked(&["s3cret"], &["x s3cr"]).0, "x s3cr");
    }

    #[test]
    fn a_secret_that_overlaps_itself_is_found() {
        assert_eq!(masked(&["aab"], &["aa", "ab"]).0, "a***");
        assert_eq!(masked(&["abab"], &["ababab"]).0, "***ab");
        assert_eq!(masked(&["abab"], &["aba", "bab", "ab"]).0, "******");
    }

    #[test]
    fn the_longest_secret_wins_and_a_shorter_one_inside_a_held_tail_is_masked() {
        assert_eq!(masked(&["ab", "abcd"], &["xabcdx"]).0, "x***x");
        // `abc` is held as a possible `abcdef`; at the end `bc` inside it is still a secret.
        assert_eq!(masked(&["abcdef", "bc"], &["abc"]).0, "a***");
        assert_eq!(masked(&["abcdef", "bc"], &["abc", "x"]).0, "a***x");
        // A shorter secret whole at the end of a read waits for the longer one (proptest found).
        assert_eq!(masked(&["bba", "b"], &["ab", "ba"]).0, "a***");
    }

    #[test]
    fn a_secret_at_the_end_one_byte_at_a_time_is_masked() {
        let writes: Vec<String> = "end s3cret".chars().map(String::from).collect();
        let writes: Vec<&str> = writes.iter().map(String::as_str).collect();
        assert_eq!(masked(&["s3cret"], &writes).0, "end ***");
    }

    #[test]
    fn empty_and_repeated_secrets_are_left_out() {
        let list = secrets(&["", "x", "x"]);
        assert_eq!(list.secrets.len(), 1);
        assert!(secrets(&[""]).is_empty());
        assert_eq!(masked(&["", "x"], &["axb"]).0, "a***b");
    }

    #[test]
    fn debug_names_no_secret() {
        assert!(!format!("{:?}", secrets(&["s3cret"])).contains("s3cret"));
    }

    /// The whole text masked at once, position by position, the longest secret first.
    fn reference(list: &[String], text: &str) -> String {
        let mut sorted: Vec<&String> = list.iter().filter(|s| !s.is_empty()).collect();
        sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let (bytes, mut out, mut at) = (text.as_bytes(), Vec::new(), 0);
        while at < bytes.len() {
            match sorted
                .iter()
                .find(|s| bytes[at..].starts_with(s.as_bytes()))
            {
                Some(secret) => {
                    out.extend_from_slice(MASK);
                    at += secret.len();
                }
                None => {
                    out.push(bytes[at]);
                    at += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        /// However the output is split into writes, it is masked as the whole text would be.
        #[test]
        fn any_split_masks_as_the_whole(
            list in proptest::collection::vec("[ab]{1,4}", 1..4),
            text in "[abc]{0,40}",
            cuts in proptest::collection::vec(0usize..41, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|cut| *cut <= text.len()).collect();
            cuts.sort_unstable();
            let mut writes = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([text.len()]) {
                writes.push(&text[from..cut]);
                from = cut;
            }
            let names: Vec<&str> = list.iter().map(String::as_str).collect();
            proptest::prop_assert_eq!(masked(&names, &writes).0, reference(&list, &text));
        }
    }
}
