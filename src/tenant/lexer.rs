//! Finds the `main` schema named in SQL, the way SQLite's tokenizer reads it.
//!
//! A tenant handle refuses any SQL naming `main` as a schema (`main.t`,
//! `"main".t`, `[MAIN] . t`, `'main'.t`): unqualified names reach the tenant
//! views first, so this is what keeps tenant SQL off the underlying tables even
//! where the authorizer cannot tell the view from a CTE of the same name (see
//! `super::rules`). The scan follows `tokenize.c`: comments, string literals,
//! the four identifier quotings, and SQLite's notion of white space; a word that
//! dequotes to `main` (ASCII case-insensitively) followed by `.` is a hit.
//! It errs on the side of refusing (a column aliased `main` used as `main.x` is refused too).

/// The first place `sql` names the `main` schema, as written, if any.
pub fn main_schema_reference(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let word: Option<Vec<u8>> = match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = skip_line_comment(bytes, i);
                None
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                None
            }
            quote @ (b'\'' | b'"' | b'`') => {
                let (end, text) = quoted(bytes, i, quote, quote);
                i = end;
                Some(text)
            }
            b'[' => {
                let (end, text) = quoted(bytes, i, b'[', b']');
                i = end;
                Some(text)
            }
            c if is_id_char(c) => {
                while i < bytes.len() && is_id_char(bytes[i]) {
                    i += 1;
                }
                Some(bytes[start..i].to_vec())
            }
            _ => {
                i += 1;
                None
            }
        };
        if word.is_some_and(|w| w.eq_ignore_ascii_case(b"main")) && next_is_dot(bytes, i) {
            let end = (i + 1).min(bytes.len());
            return Some(String::from_utf8_lossy(&bytes[start..end]).into_owned());
        }
    }
    None
}

/// SQLite's `IdChar`: letters, digits, `_`, `$` and every byte of a multi-byte character.
fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// SQLite's `sqlite3Isspace`: tab, newline, vertical tab, form feed, carriage return, space.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn skip_line_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

fn skip_block_comment(bytes: &[u8], i: usize) -> usize {
    let mut j = i + 2;
    while j + 1 < bytes.len() && !(bytes[j] == b'*' && bytes[j + 1] == b'/') {
        j += 1;
    }
    (j + 2).min(bytes.len())
}

/// A quoted token from `open` at `i` to `close` (a doubled `close` is one, except for `]`);
/// returns the index after it and the dequoted text. Unterminated runs to the end.
fn quoted(bytes: &[u8], i: usize, open: u8, close: u8) -> (usize, Vec<u8>) {
    let mut text = Vec::new();
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == close {
            if open != b'[' && bytes.get(j + 1) == Some(&close) {
                text.push(close);
                j += 2;
                continue;
            }
            return (j + 1, text);
        }
        text.push(bytes[j]);
        j += 1;
    }
    (j, text)
}

/// Whether the next token after `i` (past white space and comments) is `.`.
fn next_is_dot(bytes: &[u8], mut i: usize) -> bool {
    loop {
        match bytes.get(i) {
            Some(&c) if is_space(c) => i += 1,
            Some(b'-') if bytes.get(i + 1) == Some(&b'-') => i = skip_line_comment(bytes, i),
            Some(b'/') if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            Some(b'.') => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_main_in_every_quoting_and_spacing() {
        for sql in [
            "SELECT * FROM main.t",
            "SELECT * FROM MAIN.\"t\"",
            "SELECT * FROM \"main\".t",
            "SELECT * FROM [Main] . t",
            "SELECT * FROM `main`.t",
            "SELECT * FROM 'main'.t",
            "SELECT * FROM main/* x */.t",
            "SELECT * FROM main -- x\n .t",
            "WITH t AS (SELECT * FROM main.t) SELECT * FROM t",
            "SELECT (SELECT count(*) FROM main.t)",
            "INSERT INTO t SELECT * FROM\tmain\n.t",
        ] {
            assert!(main_schema_reference(sql).is_some(), "{sql}");
        }
    }

    #[test]
    fn ignores_main_in_strings_comments_longer_words_and_without_a_dot() {
        for sql in [
            "SELECT 'main.t' FROM t",
            "SELECT * FROM t -- main.t",
            "SELECT * FROM t /* main.t */",
            "SELECT domain.x FROM t AS domain",
            "SELECT mains.x FROM t AS mains",
            "SELECT \"main\" FROM t",
            "SELECT 'it''s main' || '.' FROM t",
            "SELECT * FROM temp.t",
            "SELECT [a]]main].x FROM t",
        ] {
            assert_eq!(main_schema_reference(sql), None, "{sql}");
        }
    }

    #[test]
    fn doubled_quotes_do_not_end_a_token() {
        assert!(main_schema_reference("SELECT 'a''b', x FROM main.t").is_some());
        assert!(main_schema_reference("SELECT \"a\"\"\" FROM main.t").is_some());
        assert_eq!(main_schema_reference("SELECT 'x'' main.t'"), None);
    }
}
