//! Reading a management token that a user pipes in (`token set`, `init --token-stdin`, `profile
//! add --token-stdin`): the bare token, or the whole output of `influxctl management create`.

use std::io::Read as _;

use sealctl_seal::{TokenInput, parse_token_input};
use zeroize::Zeroizing;

use crate::error::CommandError;

/// The most standard input may hold: far more than any token or `management create` output, and
/// a bound on what a mistaken pipe (a file, a stream) makes sealctl read.
const MAX_INPUT_BYTES: u64 = 64 * 1024;

/// The token from standard input: the bare token, or the output of `influxctl management create`.
pub fn from_stdin() -> Result<TokenInput, CommandError> {
    // Zeroed when dropped, and sized up front so that no reallocation leaves a copy behind.
    let mut input = Zeroizing::new(Vec::with_capacity(MAX_INPUT_BYTES as usize + 1));
    std::io::stdin()
        .lock()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut input)
        .map_err(|error| {
            CommandError::setup("cannot read the token from standard input").source(error)
        })?;
    if input.len() as u64 > MAX_INPUT_BYTES {
        return Err(CommandError::setup(
            "the input is over 64 KiB: that is not a token",
        ));
    }
    let text = std::str::from_utf8(&input)
        .map_err(|_| CommandError::setup("the input is not UTF-8 text"))?;
    Ok(parse_token_input(text)?)
}
