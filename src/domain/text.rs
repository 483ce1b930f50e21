//! Text that can be stored: PostgreSQL refuses the NUL character (U+0000) in `text` columns,
//! and SQLite's string functions stop at it; and no single text is longer than
//! [`MAX_CHARS`]. Input breaking either is refused as bad input on both backends ([`check`]);
//! what must be stored whatever the input (the audit log) is made storable instead
//! ([`storable`]).

/// The longest text stored, in characters. A report's excerpt is a quotation of a sentence or
/// a paragraph (the demo dataset's longest text has about 200); without this bound, one import
/// file could carry a 7 MB "excerpt" that every later read of its report would return.
pub const MAX_CHARS: usize = 20_000;

/// Why `text` cannot be stored, if it cannot.
pub fn check(text: &str) -> Result<(), String> {
    if text.contains('\0') {
        Err("must not contain the NUL character (U+0000), which cannot be stored".to_owned())
    } else if text.len() > MAX_CHARS && text.chars().nth(MAX_CHARS).is_some() {
        Err(format!("is {} characters long; at most {MAX_CHARS} are stored", text.chars().count()))
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
        assert!(check(&"妇".repeat(MAX_CHARS)).is_ok());
        assert!(check(&"妇".repeat(MAX_CHARS + 1)).unwrap_err().contains("20001 characters"));
        assert_eq!(storable("a\0b", 10), "a\u{FFFD}b");
    }

    #[test]
    fn long_text_is_cut_with_a_mark() {
        assert_eq!(storable("abcdef", 6), "abcdef");
        assert_eq!(storable("abcdefg", 6), "abcde…");
        assert_eq!(storable("通州区妇联", 3), "通州…");
    }
}
