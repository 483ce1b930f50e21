//! Text that can be stored: PostgreSQL refuses the NUL character (U+0000) in `text` columns,
//! and SQLite's string functions stop at it. Input carrying it is refused as bad input on
//! both backends ([`check`]); what must be stored whatever the input (the audit log) is
//! made storable instead ([`storable`]).

/// Why `text` cannot be stored, if it cannot.
pub fn check(text: &str) -> Result<(), &'static str> {
    if text.contains('\0') {
        Err("must not contain the NUL character (U+0000), which cannot be stored")
    } else {
        Ok(())
    }
}

/// `text` as it can always be stored: every NUL replaced by U+FFFD, and at most `max_chars`
/// characters (a longer text ends in "…").
pub fn storable(text: &str, max_chars: usize) -> String {
    let mut out: String = text.chars().take(max_chars).map(|c| if c == '\0' { '\u{FFFD}' } else { c }).collect();
    if text.chars().nth(max_chars).is_some() {
        out.pop();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_and_replaced() {
        assert!(check("梨园 women's home").is_ok());
        assert!(check("a\0b").is_err());
        assert_eq!(storable("a\0b", 10), "a\u{FFFD}b");
    }

    #[test]
    fn long_text_is_cut_with_a_mark() {
        assert_eq!(storable("abcdef", 6), "abcdef");
        assert_eq!(storable("abcdefg", 6), "abcde…");
        assert_eq!(storable("通州区妇联", 3), "通州…");
    }
}
