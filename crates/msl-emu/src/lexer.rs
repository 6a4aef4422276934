//! Just enough of a C++ tokenizer to check and rewrite printed MSL: identifiers, numbers and
//! punctuation with their byte ranges and lines. Comments, string literals and preprocessor
//! lines produce no tokens, so a word in a comment is never mistaken for code.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    Punct,
}

#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// 1-based line of the token's first byte.
    pub line: u32,
}

impl Token {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }

    pub fn is(&self, src: &str, text: &str) -> bool {
        self.text(src) == text
    }
}

pub fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1u32;
    // Whether only whitespace precedes `i` on its line: a `#` there starts a directive.
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' && line_start {
            // A directive runs to the end of the line, continued by a trailing backslash.
            while i < bytes.len() && bytes[i] != b'\n' {
                if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'\n') {
                    line += 1;
                    i += 1;
                }
                i += 1;
            }
            continue;
        }
        line_start = false;
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                if bytes[i] == b'\n' {
                    line += 1;
                }
                i += 1;
            }
            i = (i + 2).min(bytes.len());
            continue;
        }
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c && bytes[i] != b'\n' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            continue;
        }
        let start = i;
        let kind = if c == b'_' || c.is_ascii_alphabetic() {
            while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            Kind::Ident
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            // Numbers with exponents, suffixes and hex digits: a pp-number.
            while i < bytes.len() {
                let d = bytes[i];
                let exp_sign = (d == b'+' || d == b'-')
                    && i > start
                    && matches!(bytes[i - 1], b'e' | b'E' | b'p' | b'P');
                if d == b'_' || d == b'.' || d.is_ascii_alphanumeric() || exp_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            Kind::Number
        } else {
            // Non-ASCII bytes can only be in comments or strings in valid MSL; step over a
            // whole character so ranges stay on char boundaries.
            i += src[i..].chars().next().map_or(1, char::len_utf8);
            Kind::Punct
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
            line,
        });
    }
    tokens
}

/// Index of the token that closes the bracket opened at `open` (`(`, `[` or `{`), if any.
pub fn matching(src: &str, tokens: &[Token], open: usize) -> Option<usize> {
    let (o, c) = match tokens.get(open)?.text(src) {
        "(" => ("(", ")"),
        "[" => ("[", "]"),
        "{" => ("{", "}"),
        _ => return None,
    };
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        if t.kind != Kind::Punct {
            continue;
        }
        let s = t.text(src);
        if s == o {
            depth += 1;
        } else if s == c {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_strings_and_directives_make_no_tokens() {
        let src = "#include <metal_stdlib>\n// double x\n/* double\n y */ float \"double\" z;";
        let toks = tokenize(src);
        let words: Vec<&str> = toks.iter().map(|t| t.text(src)).collect();
        assert_eq!(words, ["float", "z", ";"]);
        assert_eq!(toks[0].line, 4);
    }

    #[test]
    fn numbers_keep_exponents_and_suffixes() {
        let src = "x = 1.5e-3f + 0x1p+4;";
        let words: Vec<&str> = tokenize(src).iter().map(|t| t.text(src)).collect();
        assert_eq!(words, ["x", "=", "1.5e-3f", "+", "0x1p+4", ";"]);
    }
}
