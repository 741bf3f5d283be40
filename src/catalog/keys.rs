//! Load-time validation of the fact keys checks read, against the key patterns the
//! collectors own (exact keys, or prefixes ending in `.`): a check naming a key that no
//! collector produces would otherwise pass every fixture test and be `unknown` forever.

use super::{Catalog, CatalogError};

/// Whether a collector pattern covers a fact key.
pub fn covers(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('.') {
        Some(_) => key.starts_with(pattern),
        None => key == pattern,
    }
}

/// The candidate nearest to `key` by edit distance (a prefix pattern is compared with
/// the key's start and shown as `prefix*`), if any is reasonably close.
pub fn nearest<'a>(key: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for c in candidates {
        let (d, shown) = if c.ends_with('.') {
            let n = c.chars().count();
            let d = (n.saturating_sub(2)..=n + 2)
                .map(|k| levenshtein(&key.chars().take(k).collect::<String>(), c))
                .min()
                .unwrap_or(usize::MAX);
            (d, format!("{c}*"))
        } else {
            (levenshtein(key, c), c.to_string())
        };
        if best
            .as_ref()
            .is_none_or(|(bd, bs)| d < *bd || (d == *bd && shown < *bs))
        {
            best = Some((d, shown));
        }
    }
    // Beyond a third of the key's length, a suggestion is noise.
    best.filter(|(d, _)| *d <= key.chars().count().max(3) / 3 + 1)
        .map(|(_, s)| s)
}

/// Edit distance (insertions, deletions, substitutions) between two strings.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

pub(super) fn validate<S: AsRef<str>>(cat: &Catalog, owned: &[S]) -> Result<(), CatalogError> {
    let patterns: Vec<&str> = owned.iter().map(AsRef::as_ref).collect();
    let covered = |k: &str| patterns.iter().any(|p| covers(p, k));
    // Keys other checks read that a collector does produce: good suggestions too.
    let known: Vec<&str> = cat
        .checks
        .iter()
        .flat_map(|c| c.leaves())
        .map(|l| l.fact.as_str())
        .filter(|k| covered(k))
        .collect();
    for c in &cat.checks {
        for leaf in c.leaves() {
            if covered(&leaf.fact) {
                continue;
            }
            let hint = match nearest(
                &leaf.fact,
                patterns.iter().copied().chain(known.iter().copied()),
            ) {
                Some(n) => format!(" (nearest known key: {n})"),
                None => String::new(),
            };
            return Err(CatalogError {
                file: c.file.clone(),
                line: leaf.line,
                message: format!(
                    "check {}: unknown fact key {:?}: no collector step produces it{hint}",
                    c.id, leaf.fact
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_cover_exact_keys_and_prefixes() {
        assert!(covers("clock.synchronized", "clock.synchronized"));
        assert!(!covers("clock.synchronized", "clock.synchronized.x"));
        assert!(covers("cs.setting.", "cs.setting.api.throttling.enabled"));
        assert!(!covers("cs.setting.", "cs.settings.x"));
        assert!(!covers("cs.setting.", "cs.setting"));
    }

    #[test]
    fn nearest_suggests_close_keys_only() {
        let c = ["clock.synchronized", "file.db_properties", "cs.setting."];
        assert_eq!(
            nearest("clock.synchronised", c).as_deref(),
            Some("clock.synchronized")
        );
        assert_eq!(
            nearest("cs.settings.api.key", c).as_deref(),
            Some("cs.setting.*")
        );
        assert_eq!(nearest("zzzzzzzz", c), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
