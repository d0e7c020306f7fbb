//! Character classes (`%a`, `%d`, ...) with the C locale's `<ctype.h>` meaning, which is
//! what Lua's own `lstrlib.c` sees in a process that never calls `setlocale`: only ASCII
//! bytes belong to any class, bytes >= 0x80 to none.

/// Whether byte `c` is in the class named by the byte after `%` (`cl`): a lowercase class
/// letter selects the class, its uppercase form the complement; any other byte stands for
/// itself (so `%.` matches a dot). Lua 5.4's `match_class`.
pub fn match_class(c: u8, cl: u8) -> bool {
    let in_class = match cl.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => is_c_space(c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        // Deprecated in Lua 5.2 but still accepted by 5.4.
        b'z' => c == 0,
        _ => return cl == c,
    };
    if cl.is_ascii_lowercase() {
        in_class
    } else {
        !in_class
    }
}

/// C's `isspace`: unlike `u8::is_ascii_whitespace` it includes the vertical tab (0x0b).
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_c_locale() {
        assert!(
            match_class(0x0b, b's'),
            "C's isspace includes the vertical tab"
        );
        assert!(!match_class(0xe9, b'a'), "no byte >= 0x80 is a letter");
        assert!(match_class(0xe9, b'A'), "so the complement holds it");
        assert!(match_class(b'_', b'p') && !match_class(b'_', b'w'));
        assert!(match_class(0x7f, b'c') && !match_class(b' ', b'g'));
        assert!(match_class(0, b'z') && match_class(1, b'Z'));
        assert!(match_class(b'.', b'.') && !match_class(b'x', b'.'));
        assert!(
            match_class(b'q', b'q') && !match_class(b'q', b'Q'),
            "%Q is a literal Q"
        );
    }
}
