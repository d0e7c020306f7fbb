//! The helpers around the matcher in `lstrlib.c`: start positions, the plain-search
//! shortcut and the chunked plain search itself.

use super::steps::{Steps, BYTES_PER_STEP, CHUNK_BYTES};
use crate::Stop;

/// Bytes that make a pattern more than a plain string (`SPECIALS`).
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// A 1-based start position from Lua (negative: back from the end), clipped to
/// `[1, inf)` (`posrelatI`). May exceed `len`: callers treat that as "after the end".
pub fn start_position(pos: i64, len: usize) -> u64 {
    if pos > 0 {
        pos as u64
    } else if pos == 0 || pos < -(len as i64) {
        1
    } else {
        (len as i64 + pos + 1) as u64
    }
}

/// Whether `pattern` has no special byte, so `find` may search for it as plain text
/// (`nospecials`; embedded NULs are ordinary bytes).
pub fn has_no_specials(pattern: &[u8]) -> bool {
    !pattern.iter().any(|c| SPECIALS.contains(c))
}

/// The first offset of `needle` in `haystack` (`lmemfind`), searched window by window
/// so the step counter sees progress.
pub fn find_plain(
    haystack: &[u8],
    needle: &[u8],
    steps: &mut Steps,
) -> Result<Option<usize>, Stop> {
    let Some((&first, rest)) = needle.split_first() else {
        return Ok(Some(0)); // empty strings are everywhere
    };
    if needle.len() > haystack.len() {
        return Ok(None);
    }
    let candidates_end = haystack.len() - needle.len() + 1;
    let mut at = 0;
    while at < candidates_end {
        let window_end = (at + CHUNK_BYTES).min(candidates_end);
        match memchr(first, &haystack[at..window_end]) {
            None => {
                steps.bytes(window_end - at)?;
                at = window_end;
            }
            Some(offset) => {
                let candidate = at + offset;
                // At least one step per candidate: "aaaa" searched for "ab" finds one at
                // every byte.
                steps.bytes(offset + rest.len() + BYTES_PER_STEP)?;
                if haystack[candidate + 1..candidate + needle.len()] == *rest {
                    return Ok(Some(candidate));
                }
                at = candidate + 1;
            }
        }
    }
    Ok(None)
}

fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    // SAFETY: pointer and length come from one valid slice; the result points into it.
    let found = unsafe { libc::memchr(haystack.as_ptr().cast(), byte.into(), haystack.len()) };
    (!found.is_null()).then(|| found as usize - haystack.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions_follow_lua() {
        assert_eq!(start_position(3, 10), 3);
        assert_eq!(start_position(0, 10), 1);
        assert_eq!(start_position(-1, 10), 10);
        assert_eq!(start_position(-10, 10), 1);
        assert_eq!(start_position(-11, 10), 1);
        assert_eq!(start_position(i64::MIN, 10), 1);
        assert_eq!(start_position(i64::MAX, 10), i64::MAX as u64);
    }

    #[test]
    fn specials_are_the_documented_ones() {
        assert!(has_no_specials(b"abc\0]}{@"));
        for special in SPECIALS {
            assert!(!has_no_specials(&[b'a', *special]));
        }
    }
}
