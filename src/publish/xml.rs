//! The little XML the publish stage writes by hand (Atom, sitemaps): escaping text
//! and attribute values, and URLs made safe for `xsd:anyURI` consumers.

use std::borrow::Cow;

/// Escapes `&`, `<`, `>`, `"` and `'` so a string is safe as element text and as a
/// quoted attribute value. Characters XML 1.0 forbids (most C0 controls) are dropped:
/// a stray control character in a title must not make a feed unparseable.
pub fn escape(text: &str) -> Cow<'_, str> {
    let needs = text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') || is_forbidden(b));
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_ascii() && is_forbidden(c as u8) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_forbidden(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

/// Percent-encodes the bytes of a URL that are not URL-safe ASCII (non-ASCII letters
/// of term slugs, spaces), leaving reserved characters and existing escapes alone,
/// as the sitemap protocol asks.
pub fn encode_url(url: &str) -> Cow<'_, str> {
    let safe = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'?'
                    | b'#'
                    | b'['
                    | b']'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
            )
    };
    if url.bytes().all(safe) {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len() + 16);
    for b in url.bytes() {
        if safe(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(
            escape("a & <b> \"c\" 'd'"),
            "a &amp; &lt;b&gt; &quot;c&quot; &apos;d&apos;"
        );
        assert_eq!(escape("bell\u{7}"), "bell");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn encodes_non_ascii() {
        assert_eq!(
            encode_url("https://x.org/topics/миграция/"),
            "https://x.org/topics/%D0%BC%D0%B8%D0%B3%D1%80%D0%B0%D1%86%D0%B8%D1%8F/"
        );
        assert_eq!(encode_url("https://x.org/a b"), "https://x.org/a%20b");
    }
}
