//! The payload grammar of `age` values: a binary age file in standard base64 (with padding), so
//! that `base64 -d | age -d` opens it.

use base64::Engine as _;

use super::FramingError;

/// The backend's name in the framing.
pub const NAME: &str = "age";

/// The first line of every binary age file.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

/// Checks an `age` payload: standard base64 of something that starts as an age file.
pub(super) fn check_payload(payload: &str) -> Result<(), FramingError> {
    // Decode into the stack for the usual size; a sealed token is a few hundred bytes.
    let mut stack = [0u8; 2048];
    let heap: Vec<u8>;
    let decoded = match base64::engine::general_purpose::STANDARD.decode_slice(payload, &mut stack)
    {
        Ok(len) => &stack[..len],
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            heap = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .map_err(|_| FramingError::NotBase64)?;
            &heap[..]
        }
        Err(base64::DecodeSliceError::DecodeError(_)) => return Err(FramingError::NotBase64),
    };
    if decoded.starts_with(AGE_HEADER) {
        Ok(())
    } else {
        Err(FramingError::NotAgeFile)
    }
}
