//! Configuration given on git's command line (`git -c key=value`), which git hands to every
//! process it starts (hooks included) through the environment: `GIT_CONFIG_COUNT` with
//! `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`, then `GIT_CONFIG_PARAMETERS`. libgit2 reads
//! neither, yet git lets exactly this kind of configuration vouch for a repository
//! (`safe.directory` is honoured only in system, global and command-line configuration).

/// Every value of `key` (`section.name`, compared as git does: case-insensitively) in the
/// command-line configuration, in git's order. `None` stands for a key given without `=value`.
pub fn values(key: &str) -> Vec<Option<String>> {
    let var = |k: &str| std::env::var(k).ok();
    let mut out = Vec::new();
    if let Some(count) = var("GIT_CONFIG_COUNT").and_then(|c| c.trim().parse::<usize>().ok()) {
        for i in 0..count {
            let (Some(k), Some(v)) = (
                var(&format!("GIT_CONFIG_KEY_{i}")),
                var(&format!("GIT_CONFIG_VALUE_{i}")),
            ) else {
                // git stops at a missing pair too; a huge count must not spin.
                break;
            };
            if same_key(&k, key) {
                out.push(Some(v));
            }
        }
    }
    if let Some(params) = var("GIT_CONFIG_PARAMETERS") {
        for (k, v) in parse_parameters(&params) {
            if same_key(&k, key) {
                out.push(v);
            }
        }
    }
    out
}

/// Section and variable names are case-insensitive (a subsection would not be, but the keys
/// read here have none).
fn same_key(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b)
}

/// `GIT_CONFIG_PARAMETERS`: shell-single-quoted entries separated by spaces, either
/// `'key=value'` (older git) or `'key'='value'` (git 2.31 and later), `'key'` alone meaning true.
/// A malformed list ends the parse: git refuses it outright, and nothing after it is trustworthy.
pub fn parse_parameters(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let Some((first, after)) = sq_dequote(rest) else {
            break;
        };
        rest = after;
        if let Some(after_eq) = rest.strip_prefix('=') {
            if after_eq.starts_with('\'') {
                let Some((value, after)) = sq_dequote(after_eq) else {
                    break;
                };
                out.push((first, Some(value)));
                rest = after;
            } else {
                out.push((first, None));
                rest = after_eq;
            }
        } else {
            match first.split_once('=') {
                Some((k, v)) => out.push((k.to_string(), Some(v.to_string()))),
                None => out.push((first, None)),
            }
        }
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            break;
        }
        rest = rest.trim_start();
    }
    out
}

/// One single-quoted word at the start of `s` (`'a'\''b'` is `a'b`), and what follows it.
fn sq_dequote(s: &str) -> Option<(String, &str)> {
    let mut rest = s.strip_prefix('\'')?;
    let mut word = String::new();
    loop {
        let end = rest.find('\'')?;
        word.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        // The shell idiom for a quote inside quotes: close, an escaped quote (or `!`), reopen.
        let mut chars = rest.chars();
        match (chars.next(), chars.next(), chars.next()) {
            (Some('\\'), Some(c @ ('\'' | '!')), Some('\'')) => {
                word.push(c);
                rest = &rest[3..];
            }
            _ => return Some((word, rest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parameter_styles_and_quoting_as_git_writes_them() {
        assert_eq!(
            parse_parameters("'safe.directory=/srv/a b' 'core.x'='y' 'flag'"),
            vec![
                ("safe.directory".into(), Some("/srv/a b".into())),
                ("core.x".into(), Some("y".into())),
                ("flag".into(), None),
            ]
        );
        assert_eq!(
            parse_parameters("'safe.directory'='/it'\\''s' 'a.b'="),
            vec![
                ("safe.directory".into(), Some("/it's".into())),
                ("a.b".into(), None),
            ]
        );
        assert_eq!(
            parse_parameters("'a.b=c' junk 'd.e=f'"),
            vec![("a.b".into(), Some("c".into()))]
        );
        assert!(parse_parameters("").is_empty());
    }
}
